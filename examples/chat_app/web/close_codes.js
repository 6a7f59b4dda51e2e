/**
 * The close codes of a connection whose asked-for name (`?name=`) the server refused: it
 * accepts the upgrade and closes it with one of these and the reason, which a browser would
 * not show for a refused upgrade. Plain JavaScript, so that the page loads the very file the
 * server imports (`../protocol.ts`).
 *
 * @module
 */

/** Someone online goes by the name. */
export const NAME_TAKEN = 4409;
/** The name is not allowed at all. */
export const NAME_REFUSED = 4400;
