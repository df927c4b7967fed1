// Lint: neostandard (standard style for TypeScript), as the house style asks (STYLE 17).
import neostandard from 'neostandard'

export default neostandard({
  ts: true,
  ignores: ['dist/**', 'coverage/**', '.tap/**', 'data/**', 'test/screenshots/**', '.scratch/**']
})
