// The one way to the API: openapi-fetch typed by the generated schema (npm run types), never by hand.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { localPrincipalHeader } from "../signin";

export type Schemas = components["schemas"];
export type ExportView = Schemas["ExportView"];
export type ExportRequest = Schemas["ExportRequest"];
export type RunView = Schemas["RunView"];
export type ConnectionView = Schemas["ConnectionView"];
export type ConnectionSummary = Schemas["ConnectionSummary"];
export type Me = Schemas["Me"];
export type Role = Schemas["Role"];

export const API_BASE = "/api";

const identity: Middleware = {
  onRequest({ request }) {
    // Local development only: the sign-in picker's principal (App Service Authentication sets it in Azure).
    const principal = localPrincipalHeader();
    if (principal) request.headers.set("X-MS-CLIENT-PRINCIPAL", principal);
    // Easy Auth answers 401 (not a redirect to the sign-in page) to script requests that say so.
    request.headers.set("X-Requested-With", "XMLHttpRequest");
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: API_BASE });
api.use(identity);

/** An API error: `{"error": {"code", "message", "details": [{"field", "message"}]}}`, fields by dotted path. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: Record<string, string>;

  constructor(status: number, code: string, message: string, fields: Record<string, string>) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
  }

  static of(status: number, body: unknown): ApiError {
    const error = (body as { error?: Schemas["ErrorInfo"] } | undefined)?.error;
    if (!error) return new ApiError(status, "http_error", `the server answered ${status}`, {});
    const fields: Record<string, string> = {};
    for (const detail of error.details ?? []) {
      fields[detail.field] = fields[detail.field] ? `${fields[detail.field]}; ${detail.message}` : detail.message;
    }
    return new ApiError(status, error.code, error.message, fields);
  }

  /** The message for a form field: its own, or those of the paths under it (e.g. mapping.customFields.0.field). */
  field(path: string): string | undefined {
    const found = Object.entries(this.fields).filter(([key]) => key === path || key.startsWith(`${path}.`));
    return found.length ? found.map(([, message]) => message).join("; ") : undefined;
  }
}

/** The body of a successful answer, or the ApiError of a failed one. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (!result.response.ok) throw ApiError.of(result.response.status, result.error);
  return result.data as T;
}
