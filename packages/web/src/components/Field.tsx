// A form's text fields. Field labels its input by id, with an optional hint the input is described
// by (the account forms, which password managers read); InlineField wraps the input in its label
// (the dialogs' short forms). Both hand the typed text to onValue.
import { ACCOUNT_LIMITS } from '@messenger/protocol';
import type { InputHTMLAttributes, ReactNode } from 'react';

type TextInput = Omit<InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange' | 'id'> & {
  value: string;
  onValue(value: string): void;
};

export function Field({
  id,
  label,
  hint,
  value,
  onValue,
  ...input
}: TextInput & { id: string; label: ReactNode; hint?: ReactNode }) {
  const hintId = `${id}-hint`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        value={value}
        onChange={(e) => onValue(e.target.value)}
        aria-describedby={hint ? hintId : undefined}
        {...input}
      />
      {hint && (
        <span id={hintId} className="hint muted">
          {hint}
        </span>
      )}
    </div>
  );
}

/** A password, as long as the server takes. */
export function PasswordField(props: Omit<Parameters<typeof Field>[0], 'type' | 'maxLength'>) {
  return <Field type="password" maxLength={ACCOUNT_LIMITS.maxPasswordChars} {...props} />;
}

export function InlineField({ label, value, onValue, ...input }: TextInput & { label: string }) {
  return (
    <label className="field">
      <span>{label}</span>
      <input value={value} onChange={(e) => onValue(e.target.value)} {...input} />
    </label>
  );
}

/** An on/off setting, announced as a switch. */
export function Switch({
  label,
  checked,
  onChecked,
  ...input
}: Omit<InputHTMLAttributes<HTMLInputElement>, 'type' | 'role' | 'checked' | 'onChange'> & {
  label: string;
  checked: boolean;
  onChecked(checked: boolean): void;
}) {
  return (
    <label className="switch-row">
      <span>{label}</span>
      <input
        type="checkbox"
        role="switch"
        checked={checked}
        aria-checked={checked}
        onChange={(e) => onChecked(e.target.checked)}
        {...input}
      />
    </label>
  );
}

/** Usernames, one or a list: typed as they are, neither capitalized nor spell-checked. */
export function UsernamesField({
  placeholder = 'usernames, separated by commas',
  ...props
}: Omit<Parameters<typeof InlineField>[0], 'required'>) {
  return <InlineField autoCapitalize="none" spellCheck={false} required placeholder={placeholder} {...props} />;
}
