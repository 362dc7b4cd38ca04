package workload

import "strings"

// safeAlphabet is the alphabet Kubernetes uses for generated name
// suffixes and the pod-template-hash (k8s.io/apimachinery's rand.String
// and SafeEncodeString): no vowels, no 0, 1 or 3, so that generated
// strings never spell words.
const safeAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// InferOwner guesses a pod's controller from the pod's name, the way the
// controllers name pods, for when the API server cannot be asked:
//
//	<cronjob>-<8+ digit schedule>-<5 chars>  CronJob (its Job is <cronjob>-<minutes>)
//	<deployment>-<template hash>-<5 chars>   Deployment (through its ReplicaSet)
//	<name>-<5 chars>                         DaemonSet (or a Job, or a bare ReplicaSet:
//	                                         the name cannot tell them apart)
//	<statefulset>-<ordinal>                  StatefulSet
//	anything else                            the pod itself
//
// "5 chars" and the template hash are in the controllers' safe alphabet.
// The guess can be wrong for a bare pod whose name happens to look
// generated, or a DaemonSet whose name ends in a consonant-only word; the
// API server's answer, when it comes, replaces it.
func InferOwner(pod string) (kind, name string) {
	base, suffix, ok := cutLast(pod)
	if ok && len(suffix) == 5 && inAlphabet(suffix) {
		if owner, mid, ok := cutLast(base); ok {
			switch {
			case len(mid) >= 8 && allDigits(mid):
				return OwnerCronJob, owner
			case len(mid) <= 10 && inAlphabet(mid):
				return OwnerDeployment, owner
			}
		}
		return OwnerDaemonSet, base
	}
	if ok && allDigits(suffix) {
		return OwnerStatefulSet, base
	}
	return OwnerPod, pod
}

// cutLast splits "a-b-c" into "a-b" and "c"; both parts must be non-empty.
func cutLast(s string) (string, string, bool) {
	i := strings.LastIndexByte(s, '-')
	if i <= 0 || i == len(s)-1 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

func inAlphabet(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(safeAlphabet, s[i]) < 0 {
			return false
		}
	}
	return s != ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
