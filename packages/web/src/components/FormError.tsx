// A form's error, announced as it appears (role="alert"); nothing while there is none.
export function FormError({ error }: { error: string | null }) {
  return error ? (
    <p className="form-error" role="alert">
      {error}
    </p>
  ) : null;
}
