/** Something `mvfleet check` found that a user would otherwise discover in production. */
export interface CheckFinding {
  /**
   * `error`: refreshes or reads will fail (or block readers) until it is fixed;
   * `warning`: the fleet runs, but a view may stay stale or a refresh may be slow.
   */
  level: 'error' | 'warning';
  /** The catalog view concerned; absent for a finding about the database as a whole. */
  view?: string;
  /** What is wrong and what to do about it, on one line. */
  message: string;
}
