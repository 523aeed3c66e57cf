// The composer's files before they are sent: the tray (previews, remove), the attach button, and
// voice recording through MediaRecorder.
import { useEffect, useMemo, useRef, useState } from 'react';
import { LIMITS } from '@messenger/protocol';
import { formatSize } from './Attachments.js';
import { CloseIcon, Icon, IconButton } from './Icons.js';

/** Files from a paste or a drop (only files: pasted text stays text). */
export function filesOf(data: DataTransfer | null): File[] {
  return data ? [...data.files] : [];
}

export function FileTray({ files, onRemove }: { files: File[]; onRemove(index: number): void }) {
  const previews = useMemo(
    () => files.map((f) => (f.type.startsWith('image/') ? URL.createObjectURL(f) : null)),
    [files],
  );
  useEffect(
    () => () => {
      for (const url of previews) if (url) URL.revokeObjectURL(url);
    },
    [previews],
  );
  if (files.length === 0) return null;
  return (
    <ul className="file-tray" aria-label="Files to send">
      {files.map((f, i) => (
        <li key={`${f.name}-${i}`} className="tray-item">
          {previews[i] ? <img src={previews[i]!} alt="" /> : <span className="tray-icon">{extension(f.name)}</span>}
          <span className="tray-text">
            <span className="file-name">{f.name}</span>
            <span className="file-size">{formatSize(f.size)}</span>
          </span>
          <IconButton className="icon-button small" label={`Remove ${f.name}`} onClick={() => onRemove(i)}>
            <CloseIcon />
          </IconButton>
        </li>
      ))}
      {files.length > LIMITS.maxAttachments && (
        <li className="composer-hint" role="alert">
          At most {LIMITS.maxAttachments} files per message.
        </li>
      )}
    </ul>
  );
}

function extension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1, dot + 5).toUpperCase() : 'FILE';
}

export function AttachButton({ onFiles }: { onFiles(files: File[]): void }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <IconButton label="Attach files" title="Attach files" onClick={() => input.current?.click()}>
        <Icon>
          <path d="M20 11.5l-7.8 7.8a5 5 0 0 1-7.1-7.1l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7l-8.5 8.5a1.7 1.7 0 0 1-2.4-2.4l7.8-7.8" />
        </Icon>
      </IconButton>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        aria-label="Choose files"
        onChange={(e) => {
          onFiles([...(e.target.files ?? [])]);
          e.target.value = '';
        }}
      />
    </>
  );
}

/** Records from the microphone; stop() hands the recording over as a File. */
export function useVoiceRecorder(onRecorded: (file: File) => void, onError: (text: string) => void) {
  const [recording, setRecording] = useState(false);
  const recorder = useRef<MediaRecorder | null>(null);
  const cancelled = useRef(false);

  const start = async () => {
    if (recording) return;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const type = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/mp4'].find((t) =>
        MediaRecorder.isTypeSupported(t),
      );
      const rec = new MediaRecorder(stream, type ? { mimeType: type } : {});
      const chunks: Blob[] = [];
      rec.ondataavailable = (e) => e.data.size > 0 && chunks.push(e.data);
      rec.onstop = () => {
        for (const track of stream.getTracks()) track.stop();
        setRecording(false);
        if (cancelled.current || chunks.length === 0) return;
        const mime = (rec.mimeType || 'audio/webm').split(';')[0]!;
        const ext = mime === 'audio/mp4' ? 'm4a' : mime.split('/')[1];
        onRecorded(new File(chunks, `Voice message.${ext}`, { type: mime }));
      };
      cancelled.current = false;
      recorder.current = rec;
      rec.start();
      setRecording(true);
    } catch {
      onError('Could not use the microphone.');
    }
  };
  const stop = (send: boolean) => {
    cancelled.current = !send;
    recorder.current?.stop();
    recorder.current = null;
  };
  // Leaving the chat while recording discards the recording and frees the microphone.
  useEffect(
    () => () => {
      cancelled.current = true;
      recorder.current?.stop();
    },
    [],
  );
  return { recording, start, stop };
}
