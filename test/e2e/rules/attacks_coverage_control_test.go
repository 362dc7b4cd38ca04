package rules_test

// coverageControlAttacks prove the command-and-control, tampering and impact rules of the coverage map (docs/coverage.md).
var coverageControlAttacks = []attack{}
