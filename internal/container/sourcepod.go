package container

// sourcePod is the pod identity a source reported with a container: a CRI
// runtime describes the pod's sandbox (its labels and annotations, which
// kubelet's container labels lack), and kubelet's labels fill in what the
// source left empty. Sources that know no pod leave Info.Pod nil, and the
// labels alone decide.
func sourcePod(info *Info) *Pod {
	fromLabels := PodFromLabels(info.Labels)
	if info.Pod == nil {
		return fromLabels
	}
	p := *info.Pod
	if fromLabels != nil {
		fill(&p.Name, fromLabels.Name)
		fill(&p.Namespace, fromLabels.Namespace)
		fill(&p.UID, fromLabels.UID)
		fill(&p.ContainerName, fromLabels.ContainerName)
		fill(&p.SandboxID, fromLabels.SandboxID)
	}
	if p.Name == "" || p.Namespace == "" {
		return fromLabels // not a pod identity to report
	}
	return &p
}

func fill(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}
