package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/rules/loader"
)

// ruleDescription is one rule as -L and -l describe it (Falco's -L with
// json_output).
type ruleDescription struct {
	Name      string   `json:"name"`
	Desc      string   `json:"desc"`
	Priority  string   `json:"priority"`
	Source    string   `json:"source"`
	Tags      []string `json:"tags"`
	Enabled   bool     `json:"enabled"`
	Loaded    bool     `json:"loaded"`
	Condition string   `json:"condition"`
	Output    string   `json:"output"`
	Action    string   `json:"action,omitempty"`
	Position  string   `json:"position"`
}

func describeRule(rs *detect.RuleSet, r *loader.Rule) ruleDescription {
	d := ruleDescription{Name: r.Name, Desc: strings.TrimSpace(r.Desc), Priority: r.Priority.String(), Source: r.Source,
		Tags: r.Tags, Enabled: r.Enabled, Loaded: rs.Program.Rule(r.Name) != nil, Position: r.Pos.String()}
	if d.Tags == nil {
		d.Tags = []string{}
	}
	if r.Condition != nil {
		d.Condition = strings.TrimSpace(r.Condition.Text)
	}
	if r.Output != nil {
		d.Output = strings.TrimSpace(r.Output.Text)
	}
	if r.Action != loader.ActionAlert {
		d.Action = r.Action.String()
	}
	return d
}

// describeRules prints every rule (name == "") or the named one: names
// and descriptions as text, everything as JSON. An unknown name is an
// error.
func describeRules(w io.Writer, rs *detect.RuleSet, name, format string) error {
	var out []ruleDescription
	for _, r := range rs.Loaded.Rules {
		if name == "" || r.Name == name {
			out = append(out, describeRule(rs, r))
		}
	}
	if name != "" && len(out) == 0 {
		return fmt.Errorf("no rule named %q", name)
	}
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if name != "" {
			return enc.Encode(out[0])
		}
		return enc.Encode(map[string]any{"rules": out})
	}
	t := newTable(w)
	t.println("Rule\tDescription")
	t.println("----\t-----------")
	for _, d := range out {
		t.printf("%s\t%s\n", d.Name, strings.Join(strings.Fields(d.Desc), " "))
	}
	return t.flush()
}

// fieldInfo is one field as vigil fields lists it.
type fieldInfo struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Arg  string `json:"arg,omitempty"`
	Desc string `json:"desc"`
}

func fieldInfos() []fieldInfo {
	var out []fieldInfo
	for _, f := range fields.New().Fields() {
		fi := fieldInfo{Name: f.Name, Type: f.Type.String(), Desc: f.Desc}
		switch f.Arg {
		case fields.ArgRequired:
			fi.Arg = "required"
		case fields.ArgOptional:
			fi.Arg = "optional"
		}
		out = append(out, fi)
	}
	return out
}

// listFields prints the fields rules can use, of source (empty or
// "syscall": all of them; Vigil serves the syscall source only).
func listFields(w io.Writer, source, format string) error {
	if source != "" && source != "syscall" {
		return fmt.Errorf("source %q: Vigil serves the syscall source only", source)
	}
	fs := fieldInfos()
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(map[string]any{"source": "syscall", "fields": fs})
	case "markdown":
		p := printer{w: w}
		p.println("| field | type | argument | description |")
		p.println("| --- | --- | --- | --- |")
		for _, f := range fs {
			p.printf("| `%s` | %s | %s | %s |\n", f.Name, f.Type, f.Arg, strings.ReplaceAll(f.Desc, "|", `\|`))
		}
		return p.err
	}
	t := newTable(w)
	for _, f := range fs {
		name := f.Name
		switch f.Arg {
		case "required":
			name += "[...]"
		case "optional":
			name += "[[...]]"
		}
		t.printf("%s\t%s\t%s\n", name, f.Type, f.Desc)
	}
	return t.flush()
}

func newFieldsCmd() *cobra.Command {
	var format *reportFormat
	cmd := &cobra.Command{
		Use:   "fields [SOURCE]",
		Short: "List the fields rules can use (Falco's --list)",
		Long: "List every field of the syscall source that rule conditions and outputs can\n" +
			"use, with its type and description: as a table, JSON or a Markdown table.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := format.get()
			if err != nil {
				return err
			}
			source := ""
			if len(args) == 1 {
				source = args[0]
			}
			return listFields(cmd.OutOrStdout(), source, f)
		},
	}
	format = addReportFormat(cmd.Flags(), false, "text", "json", "markdown")
	return cmd
}
