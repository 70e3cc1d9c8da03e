// Deterministic seed: wipes the SQLite file, recreates the schema, creates one
// API-key user and N leads (N = argv[2], default 500) from a fixed PRNG, so the
// data (ids, every field, timestamps) is identical on every run. Writes the API
// key to key.txt. Both files go to the work dir (PAYLOAD_REF_WORKDIR, set by run.sh).
//
//   node seed.mjs [N]          (stop the server first: the DB file is replaced)
import fs from 'node:fs'
import path from 'node:path'

const N = Number.parseInt(process.argv[2] ?? '500', 10)
if (!Number.isFinite(N) || N < 0) throw new Error(`bad N: ${process.argv[2]}`)

const cfg = await import('./payload.config.mjs')
const { workDir } = cfg
const dbFile = process.env.PAYLOAD_DB_FILE || path.join(workDir, 'payload.db')
for (const suffix of ['', '-journal', '-wal', '-shm']) fs.rmSync(dbFile + suffix, { force: true })

const { getPayload } = await import('payload')
const { OPTIONS, MULTI_SELECT, CHECKBOX_FIELDS, JSON_FIELDS } = cfg

// mulberry32: small, fixed, platform-independent PRNG.
function mulberry32(a) {
  return function () {
    a |= 0
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
function generators(rand) {
  const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1))
  const pick = (arr) => arr[Math.floor(rand() * arr.length)]
  const maybe = (p, fn) => (rand() < p ? fn() : null) // value with probability p, else null
  const subset = (arr) => {
    const k = int(1, Math.min(3, arr.length))
    const out = new Set()
    while (out.size < k) out.add(pick(arr))
    return arr.filter((v) => out.has(v)) // keep option order, stable
  }
  return { rand, int, pick, maybe, subset }
}
const { rand, int, pick, maybe, subset } = generators(mulberry32(20240611))
// comfort/safety/entertainment/utility were added later; they draw
// from a stream of their own so every other field keeps exactly the values it had.
const LATER_MULTI = ['comfort', 'safety', 'entertainment', 'utility']
const later = generators(mulberry32(20240612))

// A handful of leads carry hostile text (markup, quotes, unicode, `+`, `%`/`_`, `&`/`=`/`#`,
// a literal "null", padding) so consumers must escape, encode and compare it properly.
// Each replaces a value that was set (never a null), so null counts stay as they were.
const HOSTILE = {
  42: { firstName: 'Zoë 🚗', conversation: 'null' },
  77: { notes: '<script>alert(1)</script>' },
  137: { city: 'São Paulo' },
  199: { lastName: `O'Neil "Bob" <b>` },
  256: { notes: 'Paid 50% down_payment, 1/2 rest \\ later' },
  300: { notes: 'Tom & Jerry = "friends"? #1' },
  333: { trim: '  padded  ' },
  404: { email: 'a+b@x.com', notes: 'Call back\ntomorrow, 9am' },
}

const API_KEY = process.env.PAYLOAD_API_KEY || 'conformance-0f3c9a5e-7b21-4d8e-9c44-leads-ref-key'
const USER_EMAIL = 'api@example.com'
const USER_PASSWORD = 'conformance-password'

const FIRST = ['Ava', 'Ben', 'Carla', 'Dev', 'Elena', 'Frank', 'Gina', 'Hiro', 'Ines', 'Jamal', 'Kira', 'Luis', 'Mona', 'Nate', "O'Neil", 'Priya']
const LAST = ['Smith', 'Johnson', 'Garcia', 'Nguyen', 'Brown', 'Lopez', 'Kim', 'Patel', 'Miller', 'Davis', 'Wilson', 'Moore']
const DOMAINS = ['gmail.com', 'yahoo.com', 'example.com', 'outlook.com', 'dealer-test.com']
const MAKES = { Toyota: ['Camry', 'RAV4', 'Tacoma'], Ford: ['F-150', 'Escape', 'Mustang'], Honda: ['Civic', 'CR-V', 'Odyssey'], Tesla: ['Model 3', 'Model Y'], Chevrolet: ['Silverado', 'Equinox'] }
const STATES = [['TX', 'Austin', '78701'], ['CA', 'Fresno', '93650'], ['FL', 'Tampa', '33601'], ['NY', 'Albany', '12207'], ['OH', 'Dayton', '45402']]
const NOTES = ['Called, no answer', 'Wants a test drive', 'Prefers text', 'Asked about financing', 'Trade-in pending', 'Spanish speaker', 'Follow up next week']

function makeLead(i) {
  const first = pick(FIRST)
  const last = pick(LAST)
  const make = pick(Object.keys(MAKES))
  const model = pick(MAKES[make])
  const [state, city, zip] = pick(STATES)
  const email = `${first.toLowerCase().replace(/[^a-z]/g, '')}.${last.toLowerCase()}${i}@${pick(DOMAINS)}`
  const budgetLower = int(5, 40) * 1000
  const yearLower = int(2008, 2022)
  const mileageLower = int(0, 8) * 10000
  const lead = {
    firstName: maybe(0.95, () => first),
    lastName: maybe(0.9, () => last),
    email: maybe(0.9, () => email),
    loginEmail: maybe(0.5, () => email),
    phone: maybe(0.85, () => `+1555${String(int(0, 9999999)).padStart(7, '0')}`),
    call: maybe(0.3, () => pick(['yes', 'no', 'scheduled'])),
    zipcode: maybe(0.85, () => zip),
    city: maybe(0.8, () => city),
    state: maybe(0.8, () => state),
    cfZipcode: maybe(0.6, () => zip),
    cfState: maybe(0.6, () => state),
    cfCity: maybe(0.6, () => city),
    notes: maybe(0.6, () => pick(NOTES)),
    statusTracker: maybe(0.5, () => pick(['new', 'contacted', 'appointment', 'sold'])),
    attachments: maybe(0.1, () => `attachment-${i}.pdf`),
    purchaseOption: maybe(0.8, () => pick(['cash', 'finance', 'lease'])),
    budgetLower: maybe(0.8, () => String(budgetLower)),
    budgetUpper: maybe(0.8, () => String(budgetLower + int(1, 20) * 1000)),
    newOrUsed: maybe(0.85, () => pick(['new', 'used'])),
    make: maybe(0.85, () => make),
    model: maybe(0.85, () => model),
    trim: maybe(0.5, () => pick(['LE', 'XLT', 'EX', 'Sport', 'Limited'])),
    makeAndModel: maybe(0.85, () => `${make} ${model}`),
    customer: maybe(0.7, () => `cust-${1000 + i}`),
    completedDate: maybe(0.4, () => `2024-${String(int(1, 12)).padStart(2, '0')}-${String(int(1, 28)).padStart(2, '0')}`),
    localTime: maybe(0.5, () => `${String(int(8, 20)).padStart(2, '0')}:${pick(['00', '15', '30', '45'])}`),
    creditScore: maybe(0.7, () => pick(['poor', 'fair', 'good', 'excellent'])),
    contactScore: maybe(0.6, () => String(int(0, 100))),
    contactBelongsTo: maybe(0.5, () => pick(['Alice', 'Bob', 'Carol'])),
    contactType: maybe(0.6, () => pick(['web', 'phone', 'walk-in'])),
    estimatedAgeRange: maybe(0.5, () => pick(['18-24', '25-34', '35-44', '45-54', '55+'])),
    estimatedAddress: maybe(0.4, () => `${int(1, 9999)} Main St`),
    estimatedZipcode: maybe(0.4, () => zip),
    conversation: maybe(0.3, () => `conv-${i}`),
    preApprovalId: maybe(0.2, () => `pa-${int(10000, 99999)}`),
    anonymousId: maybe(0.7, () => `anon-${i.toString(16).padStart(6, '0')}`),
    monthlyPayment: maybe(0.7, () => int(150, 900)),
    mileageLower: maybe(0.7, () => mileageLower),
    mileageUpper: maybe(0.7, () => mileageLower + int(1, 5) * 10000),
    cashDown: maybe(0.7, () => int(0, 20) * 500),
    yearLower: maybe(0.7, () => yearLower),
    yearUpper: maybe(0.7, () => Math.min(2025, yearLower + int(0, 5))),
    year: maybe(0.8, () => int(2010, 2025)),
    salesRep: maybe(0.6, () => int(1, 12)),
    customers: maybe(0.5, () => int(1, 400)),
    latestEvent: maybe(0.6, () => int(1, 5000)),
  }
  for (const name of CHECKBOX_FIELDS) lead[name] = maybe(0.85, () => rand() < 0.5)
  lead.processStatuses = maybe(0.85, () => pick(OPTIONS.processStatuses))
  lead.reason = maybe(0.35, () => pick(OPTIONS.reason))
  for (const name of MULTI_SELECT) {
    if (!LATER_MULTI.includes(name)) lead[name] = maybe(0.7, () => subset(OPTIONS[name]))
  }
  for (const name of JSON_FIELDS) lead[name] = maybe(0.4, () => Array.from({ length: int(0, 3) }, () => int(1, 999)))
  for (const name of LATER_MULTI) lead[name] = later.maybe(0.7, () => later.subset(OPTIONS[name]))
  for (const [name, value] of Object.entries(HOSTILE[i] ?? {})) {
    if (lead[name] === null) throw new Error(`HOSTILE ${i}.${name} would replace a null`)
    lead[name] = value
  }
  return lead
}

const payload = await getPayload({ config: cfg.default })
const t0 = Date.now()
await payload.create({
  collection: 'users',
  overrideAccess: true,
  data: { email: USER_EMAIL, password: USER_PASSWORD, enableAPIKey: true, apiKey: API_KEY },
})
for (let i = 1; i <= N; i++) {
  // Fixed timestamps (one minute apart) so createdAt/updatedAt and the default
  // sort (-createdAt) are identical on every run.
  const ts = new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString()
  await payload.create({
    collection: 'leads',
    overrideAccess: true,
    data: { ...makeLead(i), createdAt: ts, updatedAt: ts },
    depth: 0,
  })
}
fs.writeFileSync(path.join(workDir, 'key.txt'), API_KEY + '\n')
const { totalDocs } = await payload.count({ collection: 'leads', overrideAccess: true })
console.log(`seeded 1 user (${USER_EMAIL}) and ${totalDocs} leads in ${Date.now() - t0} ms`)
console.log(`API key (also in key.txt): ${API_KEY}`)
console.log(`header: Authorization: users API-Key ${API_KEY}`)
process.exit(0)
