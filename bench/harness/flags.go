package harness

import (
	"errors"
	"flag"
	"fmt"
)

// ParseFlags parses a benchmark command's args into fs and refuses
// positional arguments. When *quick is set once parsed, every flag of
// quickValues that args did not set takes its value there: -quick shrinks
// the sizes, explicit flags still win.
func ParseFlags(fs *flag.FlagSet, args []string, quick *bool, quickValues map[string]string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if !*quick {
		return nil
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name, value := range quickValues {
		if !set[name] {
			if err := fs.Set(name, value); err != nil {
				return fmt.Errorf("-quick: -%s %s: %w", name, value, err)
			}
		}
	}
	return nil
}

// CheckOutput checks the -o and -update flags every benchmark command
// has: text or markdown, and -update only with markdown.
func CheckOutput(output, update string) error {
	var errs []error
	if output != "text" && output != "markdown" {
		errs = append(errs, fmt.Errorf(`-o must be "text" or "markdown", got %q`, output))
	}
	if update != "" && output != "markdown" {
		errs = append(errs, errors.New("-update needs -o markdown"))
	}
	return errors.Join(errs...)
}
