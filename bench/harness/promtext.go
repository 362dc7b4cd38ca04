package main

import (
	"fmt"
	"strconv"
	"strings"
)

// promSample is one line of the Prometheus text format.
type promSample struct {
	name   string
	labels map[string]string
	value  float64
}

// promSamples is a scrape.
type promSamples []promSample

// parsePromText reads the Prometheus text exposition format as Vigil's
// metrics endpoint writes it: comments, then `name{k="v",...} value`.
// Errors name the line.
func parsePromText(text string) (promSamples, error) {
	var out promSamples
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := parsePromLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func parsePromLine(line string) (promSample, error) {
	s := promSample{labels: map[string]string{}}
	rest := line
	if i := strings.IndexAny(rest, "{ "); i < 0 {
		return s, fmt.Errorf("no value in %q", line)
	} else {
		s.name, rest = rest[:i], rest[i:]
	}
	if s.name == "" {
		return s, fmt.Errorf("no metric name in %q", line)
	}
	if strings.HasPrefix(rest, "{") {
		rest = rest[1:]
		for {
			rest = strings.TrimLeft(rest, " ,")
			if strings.HasPrefix(rest, "}") {
				rest = rest[1:]
				break
			}
			eq := strings.Index(rest, `="`)
			if eq <= 0 {
				return s, fmt.Errorf("bad label in %q", line)
			}
			key := rest[:eq]
			val, n, err := promLabelValue(rest[eq+2:])
			if err != nil {
				return s, fmt.Errorf("label %s in %q: %w", key, line, err)
			}
			s.labels[key] = val
			rest = rest[eq+2+n:]
		}
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return s, fmt.Errorf("no value in %q", line)
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return s, fmt.Errorf("value in %q: %w", line, err)
	}
	s.value = v
	return s, nil
}

// promLabelValue reads an escaped label value up to its closing quote and
// returns it with the number of bytes consumed, quote included.
func promLabelValue(s string) (string, int, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 >= len(s) {
				return "", 0, fmt.Errorf("unfinished escape")
			}
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			default:
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("unterminated value")
}

// sum adds the samples named name whose labels include want, and reports
// whether there was any.
func (ps promSamples) sum(name string, want map[string]string) (float64, bool) {
	var total float64
	found := false
next:
	for _, s := range ps {
		if s.name != name {
			continue
		}
		for k, v := range want {
			if s.labels[k] != v {
				continue next
			}
		}
		total += s.value
		found = true
	}
	return total, found
}

// value is sum without the found flag: a counter not yet exported is 0.
func (ps promSamples) value(name string, want map[string]string) float64 {
	v, _ := ps.sum(name, want)
	return v
}
