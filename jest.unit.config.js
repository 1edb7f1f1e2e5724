/**
 * Jest for the unit loop (`npm run test:unit`): test/unit only and no global setup (the base
 * config's setup migrates a database), so it needs no PostgreSQL, Redis or Temporal. A unit
 * test that reaches for one of them belongs in another folder.
 */
const [postgresql] = require('./jest.config').projects;

const unit = { ...postgresql, roots: ['<rootDir>/test/unit'], testTimeout: 30_000 };
delete unit.globalSetup;
delete unit.displayName;

// Unit suites share no database: jest may use its default worker count.
module.exports = unit;
