package rules_test

// coverageExecutionAttacks prove the execution, credential-access and persistence rules of the coverage map (docs/coverage.md).
var coverageExecutionAttacks = []attack{}
