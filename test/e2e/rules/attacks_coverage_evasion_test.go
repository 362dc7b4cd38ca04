package rules_test

// coverageEvasionAttacks prove the defense-evasion rules of the coverage map (docs/coverage.md).
var coverageEvasionAttacks = []attack{}
