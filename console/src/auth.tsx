// Who the console talks for (GET /api/me), and what their roles let them do: exactly what the API enforces.
import { createContext, useContext } from "react";
import type { Me } from "./api/client";

export interface Access {
  me: Me;
  isAdmin: boolean;
  isContributor: boolean;
  /** Admins and contributors write exports and runs (on connections they may use); viewers only read. */
  canWrite: boolean;
  /** GET /connections: admins (everything) and contributors (the shared ones, name only). */
  canListConnections: boolean;
}

export function accessOf(me: Me): Access {
  const roles = me.roles ?? [];
  const isAdmin = roles.includes("Admin");
  const isContributor = roles.includes("Contributor");
  return { me, isAdmin, isContributor, canWrite: isAdmin || isContributor, canListConnections: isAdmin || isContributor };
}

export const AccessContext = createContext<Access | null>(null);

export function useAccess(): Access {
  const access = useContext(AccessContext);
  if (!access) throw new Error("useAccess outside a signed-in page");
  return access;
}
