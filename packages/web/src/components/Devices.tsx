// The account's device sessions: which device, when last active, this one marked, the others signed out from here.
import type { DeviceSession } from '@messenger/protocol';
import { useCallback, useEffect, useState } from 'react';
import { deviceName, type Account } from '../account.js';
import { useNow } from '../hooks.js';
import { lastSeen } from '../lib/time.js';
import { FormError } from './FormError.js';

/** A session named by the server after the raw User-Agent (sign-up takes no device name) gets the short form. */
function label(s: DeviceSession): string {
  return /^Mozilla\/|AppleWebKit|Gecko\//.test(s.deviceName) ? deviceName(s.deviceName) : s.deviceName;
}

export function Devices({ account }: { account: Account }) {
  const [sessions, setSessions] = useState<DeviceSession[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [ending, setEnding] = useState<string | null>(null);
  const now = useNow(30_000);

  const load = useCallback(() => {
    account.devices().then(
      (list) => {
        setSessions(list);
        setError(null);
      },
      () => setError('Could not load your devices. Try again.'),
    );
  }, [account]);
  useEffect(load, [load]);

  const end = async (s: DeviceSession) => {
    setEnding(s.id);
    setError(null);
    try {
      await account.endSession(s.id);
      setSessions((list) => list?.filter((x) => x.id !== s.id) ?? null);
    } catch {
      setError(`Could not sign out ${label(s)}. Try again.`);
    } finally {
      setEnding(null);
    }
  };

  return (
    <div className="stack">
      <p className="hint muted">Where your account is signed in. Signing a device out ends its session at once.</p>
      <FormError error={error} />
      {sessions === null && !error && <p className="muted">Loading…</p>}
      {sessions && (
        <ul className="device-list" aria-label="Signed-in devices">
          {sessions.map((s) => (
            <li key={s.id} className="device">
              <span className="device-body">
                <span className="device-name">
                  {label(s)}
                  {s.current && <span className="device-current">This device</span>}
                </span>
                <span className="muted small">
                  {s.current ? 'Active now' : `Active ${lastSeen(s.lastActiveAt, now).replace(/^Last seen /, '')}`}
                </span>
              </span>
              {!s.current && (
                <button
                  type="button"
                  className="secondary small"
                  disabled={ending === s.id}
                  aria-label={`Sign out ${label(s)}`}
                  onClick={() => void end(s)}
                >
                  Sign out
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {sessions?.length === 0 && <p className="muted">No device sessions: this browser uses an API key.</p>}
    </div>
  );
}
