// `npm run migrate`: applies the migrations alone and exits.
import { loadConfig, loadDotEnv } from './config.js'
import { migrate, openDatabase } from './db/client.js'

loadDotEnv()
const config = loadConfig()
const opts = { databaseUrl: config.databaseUrl, dataDir: config.dataDir }
const database = config.databaseUrl ? undefined : await openDatabase(opts)
await migrate(opts, database)
await database?.close()
process.stdout.write(`Migrations applied (${config.databaseUrl ? 'PostgreSQL' : `embedded database in ${config.dataDir}`}).\n`)
