package rules_test

// coverageEscalationAttacks prove the privilege-escalation and container-escape rules of the coverage map (docs/coverage.md).
var coverageEscalationAttacks = []attack{}
