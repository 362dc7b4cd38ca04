package main

import (
	"math"
	"slices"
)

// spread is a median with the range it came from.
type spread struct {
	Median, Min, Max float64
	N                int
}

func summarize(v []float64) spread {
	v = slices.DeleteFunc(slices.Clone(v), func(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) })
	if len(v) == 0 {
		return spread{Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	slices.Sort(v)
	m := v[len(v)/2]
	if len(v)%2 == 0 {
		m = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return spread{Median: m, Min: v[0], Max: v[len(v)-1], N: len(v)}
}

// halfRange is the measured noise used by the regression check.
func (s spread) halfRange() float64 { return (s.Max - s.Min) / 2 }

func (s spread) ok() bool { return s.N > 0 && !math.IsNaN(s.Median) }
