package dashboard

import (
	"embed"
	"io/fs"
)

//go:embed web
var webFiles embed.FS

// Web returns the page's files: index.html, app.js, style.css.
func Web() fs.FS {
	sub, err := fs.Sub(webFiles, "web")
	if err != nil {
		panic(err) // the directory is embedded above
	}
	return sub
}
