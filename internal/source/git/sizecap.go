package git

import (
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage"
)

// DefaultMaxFetchSize caps the bytes one fetch may bring when
// FetchOptions.MaxSize is 0: twice the artifact store's size cap, room for
// history the artifact does not hold.
const DefaultMaxFetchSize int64 = 1 << 30

// capStorer counts the packfile a fetch writes and fails the write past
// max bytes, whatever the transport (https, ssh, file).
type capStorer struct {
	storage.Storer
	pw    storer.PackfileWriter
	max   int64
	drain bool
}

// withSizeCap wraps s so a fetch into it fails with ErrTooLarge past max
// bytes. A storer that cannot stream packfiles is returned as it is.
//
// With drain, the bytes past the cap are read and discarded, and the error
// comes when the pack ends: go-git's file transport waits for its
// git-upload-pack to exit when the fetch stops, and a git-upload-pack
// blocked writing a pack nobody reads never exits (go-git v5.19.3,
// plumbing/transport/file command.Close). A local repository's pack ends;
// the fetch's deadline bounds the rest.
func withSizeCap(s storage.Storer, max int64, drain bool) storage.Storer {
	pw, ok := s.(storer.PackfileWriter)
	if !ok {
		return s
	}
	return &capStorer{Storer: s, pw: pw, max: max, drain: drain}
}

// PackfileWriter implements storer.PackfileWriter.
func (c *capStorer) PackfileWriter() (io.WriteCloser, error) {
	w, err := c.pw.PackfileWriter()
	if err != nil {
		return nil, err
	}
	return &capWriter{WriteCloser: w, left: c.max, max: c.max, drain: c.drain}, nil
}

type capWriter struct {
	io.WriteCloser
	left, max int64
	drain     bool
	over      bool
}

func (w *capWriter) Write(p []byte) (int, error) {
	if w.over || int64(len(p)) > w.left {
		if !w.drain {
			return 0, w.tooLarge()
		}
		w.over = true
		return len(p), nil
	}
	w.left -= int64(len(p))
	return w.WriteCloser.Write(p)
}

// Close ends the pack; past the cap the truncated pack is dropped and the
// fetch fails with ErrTooLarge.
func (w *capWriter) Close() error {
	err := w.WriteCloser.Close()
	if w.over {
		return w.tooLarge()
	}
	return err
}

func (w *capWriter) tooLarge() error {
	return fmt.Errorf("%w: the server sent more than %d bytes", ErrTooLarge, w.max)
}
