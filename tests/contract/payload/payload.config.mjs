// Payload CMS 3.90.2 config for the contract tests: a `users` auth collection (API keys on)
// and a `leads` collection whose fields come from leads-fields.json, which
// `uv run manage.py payload_contract_config` writes from leadsadmin/schema.py.
// The SQLite file lives in the work dir (PAYLOAD_REF_WORKDIR, set by run.sh),
// never next to this file, so the package folder itself stays clean.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildConfig } from 'payload'
import { sqliteAdapter } from '@payloadcms/db-sqlite'

const dirname = path.dirname(fileURLToPath(import.meta.url))
export const workDir = process.env.PAYLOAD_REF_WORKDIR || dirname
const dbFile = process.env.PAYLOAD_DB_FILE || path.join(workDir, 'payload.db')

// Read rather than imported: JSON imports need import attributes, which vary across node 20.x.
const leadFields = JSON.parse(fs.readFileSync(path.join(dirname, 'leads-fields.json'), 'utf8'))

const names = (test) => leadFields.filter(test).map((field) => field.name)
export const OPTIONS = Object.fromEntries(
  leadFields.filter((field) => field.options).map((field) => [field.name, field.options]),
)
export const MULTI_SELECT = names((field) => field.type === 'select' && field.hasMany)
export const CHECKBOX_FIELDS = names((field) => field.type === 'checkbox')
// Relation lists of the real schema, modelled here as plain JSON (arrays of ids).
export const JSON_FIELDS = names((field) => field.type === 'json')

const authenticated = ({ req }) => Boolean(req.user)

export default buildConfig({
  secret: process.env.PAYLOAD_SECRET || 'conformance-reference-secret-not-for-production',
  serverURL: process.env.PAYLOAD_SERVER_URL || 'http://127.0.0.1:3100',
  telemetry: false,
  admin: { user: 'users' },
  db: sqliteAdapter({
    client: { url: `file:${dbFile}` },
    // Create/alter tables from the config at startup (dev-style push), no migrations.
    push: true,
  }),
  collections: [
    {
      slug: 'users',
      auth: { useAPIKey: true },
      access: {
        read: authenticated,
        create: authenticated,
        update: authenticated,
        delete: authenticated,
      },
      fields: [],
    },
    {
      slug: 'leads',
      access: {
        read: authenticated,
        create: authenticated,
        update: authenticated,
        delete: authenticated,
      },
      fields: leadFields,
    },
  ],
  typescript: { autoGenerate: false },
})
