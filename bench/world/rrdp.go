package world

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// RRDPNamespace is the XML namespace of RFC 8182 §3.5.
const RRDPNamespace = "http://www.ripe.net/rpki/rrdp"

// sessionID derives a repository's RRDP session ID, a version 4 UUID
// (RFC 9562 §5.4) whose random bits come from the seed.
func sessionID(seed int64, repo string) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("rovd-bench rrdp session %d %s", seed, repo)))
	u := h[:16]
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// rrdpPath returns the path, under DIR/rrdp/REPO/, of a file of the given
// session and serial, and its URI.
func rrdpFile(r Repository, session string, serial uint64, name string) (rel, uri string) {
	rel = filepath.Join(session, strconv.FormatUint(serial, 10), name)
	return rel, "https://" + r.HTTPS + "/rrdp/" + r.Name + "/" + session + "/" + strconv.FormatUint(serial, 10) + "/" + name
}

// xmlWriter writes an RRDP file while hashing it. It writes to a
// temporary file renamed into place by close, so that a server reading
// the tree never serves half a file.
type xmlWriter struct {
	path string
	f    *os.File
	buf  *bufio.Writer
	h    hash.Hash
	w    io.Writer
	n    int64
}

func createXML(path string) (*xmlWriter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, err
	}
	x := &xmlWriter{path: path, f: f, buf: bufio.NewWriterSize(f, 1<<20), h: sha256.New()}
	x.w = io.MultiWriter(x.buf, x.h)
	return x, nil
}

func (x *xmlWriter) WriteString(s string) {
	n, _ := io.WriteString(x.w, s) // errors surface at Flush in close
	x.n += int64(n)
}

// publish writes a publish element; oldHash is set when it replaces a file
// (RFC 8182 §3.5.3.3).
func (x *xmlWriter) publish(uri string, data []byte, oldHash []byte) {
	x.WriteString(`  <publish uri="` + xmlEscape(uri) + `"`)
	if oldHash != nil {
		x.WriteString(` hash="` + hex.EncodeToString(oldHash) + `"`)
	}
	x.WriteString(">")
	enc := base64.NewEncoder(base64.StdEncoding, writerFunc(func(p []byte) (int, error) {
		x.WriteString(string(p))
		return len(p), nil
	}))
	_, _ = enc.Write(data) // writes into x, whose errors surface at close
	_ = enc.Close()
	x.WriteString("</publish>\n")
}

func (x *xmlWriter) withdraw(uri string, oldHash []byte) {
	x.WriteString(`  <withdraw uri="` + xmlEscape(uri) + `" hash="` + hex.EncodeToString(oldHash) + `"/>` + "\n")
}

// close finishes the file, puts it in place and returns its SHA-256 in
// hex.
func (x *xmlWriter) close() (string, error) {
	err := x.buf.Flush()
	if cerr := x.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(x.f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(x.f.Name(), x.path)
	}
	if err != nil {
		_ = os.Remove(x.f.Name()) // the write's error is the one to report
		return "", err
	}
	return hex.EncodeToString(x.h.Sum(nil)), nil
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// xmlEscape escapes the characters that matter in an attribute value.
func xmlEscape(s string) string {
	out := make([]byte, 0, len(s))
	for i := range len(s) {
		switch c := s[i]; c {
		case '&':
			out = append(out, "&amp;"...)
		case '<':
			out = append(out, "&lt;"...)
		case '"':
			out = append(out, "&quot;"...)
		case '>':
			out = append(out, "&gt;"...)
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

func rrdpHeader(kind, session string, serial uint64) string {
	return fmt.Sprintf(`<%s xmlns="%s" version="1" session_id="%s" serial="%d">`+"\n", kind, RRDPNamespace, session, serial)
}

// writeNotification writes DIR/rrdp/REPO/notification.xml.
func writeNotification(dir string, st *RepoState) error {
	path := filepath.Join(dir, "rrdp", st.Name, "notification.xml")
	x, err := createXML(path)
	if err != nil {
		return err
	}
	x.WriteString(rrdpHeader("notification", st.SessionID, st.Serial))
	x.WriteString(`  <snapshot uri="` + xmlEscape(st.Snapshot.URI) + `" hash="` + st.Snapshot.Hash + `"/>` + "\n")
	// Newest delta first, as most servers write them; RFC 8182 §3.5.1.3
	// does not fix an order.
	for i := len(st.Deltas) - 1; i >= 0; i-- {
		d := st.Deltas[i]
		x.WriteString(fmt.Sprintf(`  <delta serial="%d" uri="%s" hash="%s"/>`+"\n", d.Serial, xmlEscape(d.URI), d.Hash))
	}
	x.WriteString("</notification>\n")
	_, err = x.close()
	return err
}
