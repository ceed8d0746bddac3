// A modal dialog on the native <dialog> element: focus is trapped, Escape
// closes it, and screen readers announce it as a dialog.

import { type ReactNode, useEffect, useRef } from "react";

interface DialogProps {
  readonly title: string;
  readonly onClose: () => void;
  readonly children: ReactNode;
}

export function Dialog({ title, onClose, children }: DialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  // No close() on clean-up: removing the element ends the modal, and a close()
  // would fire `close` and so onClose, even for React's development re-mount.
  useEffect(() => {
    const element = dialog.current;
    if (element !== null && !element.open) element.showModal();
  }, []);
  return (
    <dialog ref={dialog} className="dialog" aria-label={title} onClose={onClose}>
      <h2>{title}</h2>
      {children}
    </dialog>
  );
}

interface DialogFooterProps {
  /** A sentence for the user, shown above the buttons when the last attempt failed. */
  readonly error: string | undefined;
  readonly onCancel: () => void;
  readonly submitLabel: string;
  readonly busyLabel: string;
  readonly busy: boolean;
  readonly submitDisabled: boolean;
}

/** The end of a dialog's form: the error of the last attempt, Cancel, and the submit button. */
export function DialogFooter(props: DialogFooterProps) {
  return (
    <>
      {props.error !== undefined && (
        <p className="error-text" role="alert">
          {props.error}
        </p>
      )}
      <div className="row end">
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={props.busy || props.submitDisabled}>
          {props.busy ? props.busyLabel : props.submitLabel}
        </button>
      </div>
    </>
  );
}
