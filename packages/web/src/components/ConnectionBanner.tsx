// Tells the user when messages cannot flow: before the first connection and while reconnecting.
import type { ClientState } from '@messenger/sdk';

export function ConnectionBanner({ state }: { state: ClientState }) {
  const text =
    state === 'connecting' || state === 'idle'
      ? 'Connecting…'
      : state === 'reconnecting'
        ? 'Reconnecting…'
        : state === 'closed'
          ? 'Disconnected'
          : null;
  return (
    <div role="status" className={text ? 'connection-banner' : 'connection-banner hidden'}>
      {text}
    </div>
  );
}
