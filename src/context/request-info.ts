/** Who is calling, as far as the transport tells: used for sessions, audit and throttling. */
export interface RequestInfo {
  ip: string | null;
  userAgent: string | null;
}
