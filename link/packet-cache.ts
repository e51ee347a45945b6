// mqtt-packet, the encoder inside mqtt.js, builds a table of 65,536 two-byte Buffers on the first
// packet it writes, to save one small allocation per message id and topic length. The table is
// ~6 MiB of heap in every process that connects, and at the first packet of a cold
// `conplyent exec` it was the largest single CPU cost (with the collections it causes) after module
// loading; an agent or a controller does not write enough packets for it to pay back. Its documented
// switch turns it off (mqtt-packet README: "To disable cache set writeToStream.cacheNumbers = false").
// It is process-wide: an embedded broker in the same process (`broker --with-agent`) encodes without
// the table too. Imported for this effect by link/mqtt-options.ts, before any connection is made.
import { writeToStream } from 'mqtt-packet';

writeToStream.cacheNumbers = false;
