// Prints the number of leads and a sha256 of all of them (local API, depth 0, sorted by id),
// to check seed determinism. Reads the DB in the work dir (PAYLOAD_REF_WORKDIR).
//   cd "$PAYLOAD_REF_WORKDIR" && node hash-leads.mjs     (500 leads: 8b669527...)
import crypto from 'node:crypto'
import { getPayload } from 'payload'
import config from './payload.config.mjs'
const payload = await getPayload({ config })
const { docs } = await payload.find({ collection: 'leads', overrideAccess: true, limit: 0, pagination: false, sort: 'id', depth: 0 })
console.log(docs.length, crypto.createHash('sha256').update(JSON.stringify(docs)).digest('hex'))
process.exit(0)
