// Job ids that generators choose: letters and digits only, so an id never starts with `-` (which a
// shell command line would take for a flag: `conplyent kill web-1 -x3…`). 21 of 62 symbols ≈ 125 bits.
import { customAlphabet } from 'nanoid';

export const newJobId: () => string = customAlphabet('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', 21);
