// The local sign-in picker's memory: which name and role the console claims in local development.
// It is used only when GET /api/me says local sign-in is allowed; elsewhere the app ignores the header.
const KEY = "ac-console-local-principal";

export interface LocalPrincipal {
  name: string;
  role: "Admin" | "Contributor" | "Viewer";
}

export function localPrincipal(): LocalPrincipal | null {
  const raw = window.localStorage.getItem(KEY);
  if (!raw) return null;
  try {
    const parsed = JSON.parse(raw) as LocalPrincipal;
    return parsed.name && parsed.role ? parsed : null;
  } catch {
    return null;
  }
}

export function setLocalPrincipal(principal: LocalPrincipal | null): void {
  if (principal) window.localStorage.setItem(KEY, JSON.stringify(principal));
  else window.localStorage.removeItem(KEY);
}

/** The header App Service Authentication would send: base64 JSON with the name and the app role. */
export function localPrincipalHeader(): string | null {
  const principal = localPrincipal();
  if (!principal) return null;
  const body = {
    auth_typ: "aad",
    name_typ: "name",
    role_typ: "roles",
    claims: [
      { typ: "roles", val: principal.role },
      { typ: "name", val: principal.name },
      { typ: "http://schemas.microsoft.com/identity/claims/objectidentifier", val: principal.name },
    ],
  };
  const bytes = new TextEncoder().encode(JSON.stringify(body));
  let binary = "";
  bytes.forEach((b) => (binary += String.fromCharCode(b)));
  return window.btoa(binary);
}
