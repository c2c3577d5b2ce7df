import {
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
} from "@fluentui/react-components";
import type { ReactNode } from "react";
import { ErrorBar } from "./common";

/** A modal question with one action that calls the API; the API's error is shown in it. */
export function ConfirmDialog(props: {
  title: string;
  children: ReactNode;
  confirm: string;
  dismiss: string;
  onConfirm: () => void;
  onDismiss: () => void;
  pending: boolean;
  error: unknown;
}) {
  return (
    <Dialog open onOpenChange={(_, data) => (data.open ? null : props.onDismiss())}>
      <DialogSurface>
        <DialogBody>
          <DialogTitle>{props.title}</DialogTitle>
          <DialogContent>
            {props.children}
            <ErrorBar error={props.error} />
          </DialogContent>
          <DialogActions>
            <Button onClick={props.onDismiss}>{props.dismiss}</Button>
            <Button appearance="primary" onClick={props.onConfirm} disabled={props.pending}>
              {props.confirm}
            </Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
