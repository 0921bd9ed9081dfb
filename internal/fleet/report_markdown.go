package fleet

import (
	"fmt"
	"html"
	"io"
	"strings"
)

// maxMarkdown keeps a markdown plan under GitHub's 65536-character limit
// for a comment: cluster sections that do not fit are named, not shown.
const maxMarkdown = 60000

// mdEscaper makes text from the repository inert in markdown and HTML.
var mdEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "|", "\\|",
	"`", "\\`", "*", "\\*", "_", "\\_", "[", "\\[", "]", "\\]", "\n", " ")

func mdText(s string) string { return mdEscaper.Replace(s) }

// WriteMarkdown writes the Result as a pull-request comment: the headline,
// a table of the changed Stacks, warnings and failures, then one
// collapsible section per cluster (clusters with the same changes share
// one) holding a diff block.
func WriteMarkdown(w io.Writer, res *Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### flotilla plan: %s\n\n", headline(res))
	fmt.Fprintf(&b, "Base `%s` → head `%s`.\n", mdCode(revisionText(res.Base)), mdCode(revisionText(res.Head)))
	writeMarkdownTable(&b, res)
	if names := unchangedNames(res); len(names) > 0 {
		fmt.Fprintf(&b, "\nUnchanged: %s\n", mdText(strings.Join(names, ", ")))
	}
	writeMarkdownIssues(&b, res)
	groups := groupClusters(res)
	for i, g := range groups {
		section := markdownSection(g)
		if b.Len()+len(section) > maxMarkdown {
			var rest []string
			for _, g := range groups[i:] {
				rest = append(rest, g.names...)
			}
			fmt.Fprintf(&b, "\nDetails of %s are left out to fit a comment: run `flotilla plan` or use `-o json`.\n", mdText(clusterList(rest)))
			break
		}
		b.WriteString(section)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCode makes s safe inside a single-backtick code span.
func mdCode(s string) string { return strings.ReplaceAll(s, "`", "'") }

func writeMarkdownTable(b *strings.Builder, res *Result) {
	var rows []string
	for _, c := range res.Clusters {
		for _, s := range c.Stacks {
			if notable(s) {
				n := stackCounts(s)
				rows = append(rows, fmt.Sprintf("| %s | %s | %s | %d | %d | %d |", mdText(c.Name), mdText(s.Name), s.Status, n.added, n.changed, n.removed))
			}
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("\n| cluster | stack | status | added | changed | removed |\n| --- | --- | --- | ---: | ---: | ---: |\n")
	b.WriteString(strings.Join(rows, "\n") + "\n")
}

func writeMarkdownIssues(b *strings.Builder, res *Result) {
	if groups := groupWarnings(res); len(groups) > 0 {
		b.WriteString("\n**Warnings**\n\n")
		for _, g := range groups {
			fmt.Fprintf(b, "- :warning: %s\n", mdText(g.text()))
		}
	}
	if failures := res.Failures(); len(failures) > 0 {
		_, _, failed := res.Count()
		fmt.Fprintf(b, "\n**%d of %d clusters would fail to render**\n\n", failed, len(res.Clusters))
		for _, f := range failures {
			fmt.Fprintf(b, "- :x: %s / %s: %s\n", mdText(f.Cluster), mdText(f.Stack), mdText(f.Message))
		}
	}
}

// markdownSection is one collapsible section: the Stacks of a cluster
// group, each with a diff block.
func markdownSection(g clusterGroup) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n<details><summary>%s: %s</summary>\n\n", html.EscapeString(clusterList(g.names)), g.counts)
	for _, s := range g.stacks {
		fmt.Fprintf(&b, "**%s**\n\n", mdText(stackTitle(s)))
		lines := objectLines(s)
		if len(lines) == 0 {
			continue
		}
		body := strings.Join(lines, "\n")
		fence := codeFence(body)
		fmt.Fprintf(&b, "%sdiff\n%s\n%s\n\n", fence, body, fence)
	}
	b.WriteString("</details>\n")
	return b.String()
}

// codeFence is a backtick fence longer than any run of backticks in body,
// so the repository's content cannot close the block.
func codeFence(body string) string {
	longest, run := 0, 0
	for _, r := range body {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}
