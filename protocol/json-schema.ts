// JSON Schema of every payload, generated from the zod schemas; protocol/schema.json is the committed
// copy and a test regenerates it so the contract and topics.md cannot drift from the code.
import { z } from 'zod';
import { AuditRecordSchema } from './audit.js';
import { CommandSchema } from './command.js';
import { AgentNoticeSchema, JobEventSchema } from './events.js';
import { PresenceSchema } from './presence.js';

export function contractJsonSchema(): Record<string, unknown> {
  const io = { io: 'input' as const, unrepresentable: 'any' as const };
  return {
    command: z.toJSONSchema(CommandSchema, io),
    jobEvent: z.toJSONSchema(JobEventSchema, io),
    presence: z.toJSONSchema(PresenceSchema, io),
    notice: z.toJSONSchema(AgentNoticeSchema, io),
    auditRecord: z.toJSONSchema(AuditRecordSchema, io),
  };
}
