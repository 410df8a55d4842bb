/**
 * Advisory-lock namespace of view fences ("mvfl"); the second key is `hashtext(view)`. A
 * refresh holds its view's fence (exclusive, transaction-scoped) from the statement that
 * drains the view's pending requests until it commits or rolls back; a producer that finds
 * the fence free knows no refresh has drained requests it cannot yet see (see migration 3).
 */
export const VIEW_FENCE_NAMESPACE = 0x6d76666c;
