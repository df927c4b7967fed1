// `npm run cli -- staff add <email> --role owner|editor|viewer`: the first owner of a new install is made here (with
// server access, as ADMIN_TOKEN is); owners invite everyone else from the console.
import type { Database } from './db/client.js'
import { recordAudit } from './domain/audit.js'
import { addStaff, issuePasswordLink, PASSWORD_LINK_HOURS, STAFF_ROLES, type StaffRole } from './domain/staff.js'

export type StaffCommandResult = { code: number, text: string } | { usage: string }

/** `messageIdDomain`: the sending domain, for the Message-ID of a mailed link (`--mail`). */
export async function staffCommand (database: Database, args: string[], publicUrl: string, messageIdDomain: string, actor: string, now: Date): Promise<StaffCommandResult> {
  const mail = args.includes('--mail')
  const [sub, email, flag, role, ...rest] = args.filter((a) => a !== '--mail')
  if (sub !== 'add' || !email || flag !== '--role' || !(STAFF_ROLES as readonly string[]).includes(role) || rest.length > 0) {
    return { usage: `Usage: staff add <email> --role ${STAFF_ROLES.join('|')} [--mail]` }
  }
  const added = await addStaff(database, email, role as StaffRole, actor, now)
  if (!added.ok) return { code: 1, text: `${added.message}\n` }
  const token = await issuePasswordLink(database, added.account.id, now, mail ? { messageIdDomain, language: 'en' } : undefined)
  await recordAudit(database, { actor, action: 'staff-add', target: added.account.email, details: { role, mailed: mail } }, now)
  return {
    code: 0,
    text: `Staff account ${added.account.email} (${role}) created. ` +
      (mail ? 'The link to set a password is queued for them by email (the server\'s mail worker sends it); it' : 'Send them this link to set a password; it') +
      ` works once, for ${PASSWORD_LINK_HOURS} hours:\n${publicUrl}/admin/password/${token}\n`
  }
}
