// Reporting a message, the blocked-users list of the account menu, and the operator page (reports
// and suspensions), which shows only to users the server names operators.
import { type FormEvent, useEffect, useState } from 'react';
import type { Message, Report, User } from '@messenger/protocol';
import type { AppStore } from '../store.js';
import { Modal } from './Dialogs.js';
import { FormError } from './FormError.js';

export function ReportDialog({
  store,
  conversationId,
  message,
  onClose,
}: {
  store: AppStore;
  conversationId: string;
  message: Message;
  onClose(): void;
}) {
  const [reason, setReason] = useState('');
  const [state, setState] = useState<'idle' | 'busy' | 'sent' | 'failed'>('idle');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setState('busy');
    store.safety.report({ conversationId, messageId: message.id, reason: reason.trim() }).then(
      () => setState('sent'),
      () => setState('failed'),
    );
  };
  return (
    <Modal title="Report message" onClose={onClose}>
      {state === 'sent' ? (
        <div className="stack">
          <p role="status">Thanks. The operators will look at it.</p>
          <button type="button" className="primary" onClick={onClose}>
            Done
          </button>
        </div>
      ) : (
        <form onSubmit={submit} className="stack">
          <blockquote className="muted">{message.body}</blockquote>
          <label className="field">
            <span>What is wrong with it?</span>
            <textarea autoFocus required maxLength={1000} value={reason} onChange={(e) => setReason(e.target.value)} />
          </label>
          {state === 'failed' && (
            <p className="form-error" role="alert">
              Could not send the report. Try again.
            </p>
          )}
          <button type="submit" className="primary" disabled={state === 'busy' || !reason.trim()}>
            Send report
          </button>
        </form>
      )}
    </Modal>
  );
}

/** "Loading…" until a list arrives (unless loading it failed), then `empty` if it has nothing. */
function ListNotes({ items, failed, empty }: { items: unknown[] | null; failed: boolean; empty: string }) {
  return (
    <>
      {items === null && !failed && <p className="muted">Loading…</p>}
      {items?.length === 0 && <p className="muted">{empty}</p>}
    </>
  );
}

export function BlockedUsers({ store }: { store: AppStore }) {
  const [users, setUsers] = useState<User[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    store.safety.refreshBlocked().then(setUsers, () => setError('Could not load the list.'));
  }, [store]);
  const unblock = (user: User) =>
    store.safety.unblock(user.id).then(
      () => setUsers((list) => (list ?? []).filter((u) => u.id !== user.id)),
      () => setError('Could not unblock. Try again.'),
    );
  return (
    <div className="stack">
      <ListNotes items={users} failed={!!error} empty="You have not blocked anyone." />
      {users && users.length > 0 && (
        <ul className="member-list" aria-label="Blocked users">
          {users.map((u) => (
            <li key={u.id} className="member-row">
              <span className="member-name">
                {u.displayName} <span className="muted">@{u.username}</span>
              </span>
              <button
                type="button"
                className="secondary small"
                aria-label={`Unblock ${u.displayName}`}
                onClick={() => void unblock(u)}
              >
                Unblock
              </button>
            </li>
          ))}
        </ul>
      )}
      <FormError error={error} />
    </div>
  );
}

export function OperatorPanel({ store }: { store: AppStore }) {
  const [reports, setReports] = useState<Report[] | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  useEffect(() => {
    store.safety.reports().then(setReports, () => setStatus('Could not load the reports.'));
  }, [store]);
  const act = (what: string, action: Promise<void>) =>
    action.then(
      () => setStatus(`${what}: done.`),
      () => setStatus(`${what}: it did not work.`),
    );
  return (
    <div className="stack">
      <p role="status" className="hint">
        {status}
      </p>
      <ListNotes items={reports} failed={!!status} empty="No reports." />
      {reports && reports.length > 0 && (
        <ul className="report-list" aria-label="Reports">
          {reports.map((r) => (
            <li key={r.id} className="report-row">
              <p>
                <strong>{r.reason}</strong> <span className="muted">{new Date(r.createdAt).toLocaleString()}</span>
              </p>
              {r.message && <blockquote className="muted">{r.message.body}</blockquote>}
              <p className="muted small">
                Reported user: {r.userId ?? 'none'} · by {r.reporterId}
              </p>
              {r.userId && (
                <span className="member-actions">
                  <button
                    type="button"
                    className="danger-button small"
                    onClick={() => void act('Suspend', store.safety.suspend(r.userId!, r.reason))}
                  >
                    Suspend user
                  </button>
                  <button
                    type="button"
                    className="secondary small"
                    onClick={() => void act('Restore', store.safety.unsuspend(r.userId!))}
                  >
                    Restore user
                  </button>
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
