// A form's error, announced as it appears (role="alert"); nothing while there is none.
import type { ReactNode } from 'react';

export function FormError({ error }: { error: string | null }) {
  return error ? (
    <p className="form-error" role="alert">
      {error}
    </p>
  ) : null;
}

/** A form's last lines: the error of the last try, then the button that sends the form. */
export function FormSubmit({
  error,
  disabled,
  className = 'primary',
  children,
}: {
  error: string | null;
  disabled: boolean;
  className?: string;
  children: ReactNode;
}) {
  return (
    <>
      <FormError error={error} />
      <button type="submit" className={className} disabled={disabled}>
        {children}
      </button>
    </>
  );
}
