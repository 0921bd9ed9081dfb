package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/flotilla-io/flotilla/internal/version"
)

// VersionOptions configure `flotilla version`.
type VersionOptions struct {
	Output string
}

// NewVersionCommand returns `flotilla version`.
func NewVersionCommand(s Streams) *cobra.Command {
	o := &VersionOptions{}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of flotilla",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return o.Run(s) },
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "output format: json or yaml")
	return cmd
}

// Run prints the version.
func (o *VersionOptions) Run(s Streams) error {
	info := version.Get()
	switch o.Output {
	case "":
		_, err := fmt.Fprintf(s.Out, "flotilla %s (%s)\n", info.Version, info.GoVersion)
		return err
	case "json":
		b, err := json.MarshalIndent(info, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(s.Out, string(b))
		return err
	case "yaml":
		b, err := yaml.Marshal(info)
		if err != nil {
			return err
		}
		_, err = s.Out.Write(b)
		return err
	default:
		return fmt.Errorf("unknown output format %q: use json or yaml", o.Output)
	}
}
