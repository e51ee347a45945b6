// The embedded broker: aedes with conplyent's listeners, limits, users and roles.
export { startBroker, type RunningBroker } from './start.js';
export { InsecureBrokerError, isLoopback, DEFAULT_MAX_PACKET_BYTES, type BrokerOptions, type TlsOptions, type ConnectRateOptions } from './options.js';
export { addUser, removeUser, listUsers, verifyUser, hashPassword, checkPassword, checkUserName, readUsers, ROLES, type Role, type UserEntry } from './users-file.js';
export { canPublish, canSubscribe, canSetWill, type Principal } from './acl.js';
export { DENIED_SINK } from './auth.js';
