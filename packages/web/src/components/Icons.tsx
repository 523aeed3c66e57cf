// The app's line icons (24x24, drawn by the stylesheet's stroke) and the buttons that are only an
// icon: their name is the aria-label, since the icon itself is hidden from assistive technology.
import type { ButtonHTMLAttributes, ReactNode } from 'react';

export function Icon({ children }: { children: ReactNode }) {
  return (
    <svg viewBox="0 0 24 24" aria-hidden="true">
      {children}
    </svg>
  );
}

/** A button showing an icon, named by `label`; "icon-button" unless given another class. */
export function IconButton({
  label,
  className = 'icon-button',
  type = 'button',
  children,
  ...button
}: Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'aria-label'> & { label: string; children: ReactNode }) {
  return (
    <button type={type} className={className} aria-label={label} {...button}>
      {children}
    </button>
  );
}

export const CloseIcon = () => (
  <Icon>
    <path d="M6 6l12 12M18 6L6 18" />
  </Icon>
);

/** Out of a door: leaving a group, signing out. */
export const LeaveIcon = () => (
  <Icon>
    <path d="M10 4H5v16h5" />
    <path d="M14 8l4 4-4 4M18 12H9" />
  </Icon>
);

/** A person and a plus: adding members, starting a group (`plus` draws the plus where the header has room). */
export const AddPersonIcon = ({ plus }: { plus: string }) => (
  <Icon>
    <circle cx="9" cy="8" r="3.2" />
    <path d="M3 19c.6-3.2 3-5 6-5s5.4 1.8 6 5" />
    <path d={plus} />
  </Icon>
);

export const SendIcon = () => (
  <Icon>
    <path d="M4 12l16-8-6 16-2.5-6.5z" />
  </Icon>
);
