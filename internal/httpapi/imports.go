package httpapi

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"

	"github.com/autopulse/autopulse/internal/blob"
	"github.com/autopulse/autopulse/internal/record"
	"github.com/autopulse/autopulse/internal/record/csvimport"
	"github.com/autopulse/autopulse/internal/vapi"
)

// Large request bodies. The limits middleware caps every body at
// Options.MaxBodyBytes before routing; the routes below take more, and it
// asks largeBodyOf for their limits.

const (
	importUploadPath = "/api/v1/service-records/imports"
	batchPath        = "/api/v1/service-records/batch"
	// uploadTimeout bounds an upload, from its first byte to the 202.
	uploadTimeout = 15 * time.Minute
	// multipartOverhead is room for a form's boundaries and part headers.
	multipartOverhead = 1 << 20
)

// largeBody is the allowance of a route whose body may exceed
// Options.MaxBodyBytes.
// The upload is read once, as it arrives, and never held in memory, so
// Idempotency-Key (whose middleware buffers a body to hash it) does not
// apply to it: see idempotencyApplies.
type largeBody struct {
	maxBytes int64
	timeout  time.Duration
}

// largeBodyOf returns the allowance of r's route, if it has one. It runs
// before routing, so it matches the method and exact path.
func (s *Server) largeBodyOf(r *http.Request) (largeBody, bool) {
	if r.Method != http.MethodPost {
		return largeBody{}, false
	}
	switch r.URL.Path {
	case importUploadPath:
		limit := record.DefaultMaxUploadBytes
		if s.deps.Records != nil && s.deps.Records.MaxUploadBytes > 0 {
			limit = s.deps.Records.MaxUploadBytes
		}
		return largeBody{maxBytes: limit + multipartOverhead, timeout: uploadTimeout}, true
	case batchPath:
		return largeBody{maxBytes: batchMaxBodyBytes, timeout: s.opts.RequestTimeout}, true
	case webhookVapiPath:
		// End-of-call reports carry whole transcripts: Vapi's cap, not ours.
		return largeBody{maxBytes: vapi.MaxEventBytes, timeout: s.opts.RequestTimeout}, true
	}
	return largeBody{}, false
}

type importListInput struct {
	ListParams
	Status string `query:"status" enum:"pending,running,completed,failed"`
}

func (s *Server) importList(ctx context.Context, in *importListInput) (*body[list[record.Import]], error) {
	pr, err := in.page()
	if err != nil {
		return nil, err
	}
	items, next, err := s.deps.Records.ListImports(ctx, org(ctx), in.Status, pr)
	if err != nil {
		return nil, err
	}
	return listOf(items, next), nil
}

type importGetInput struct {
	IDPath
	ErrorLimit int `query:"error_limit" minimum:"0" maximum:"10000" default:"100" doc:"How many of the first errors (and warnings) to include"`
}

func (s *Server) importGet(ctx context.Context, in *importGetInput) (*body[record.Import], error) {
	imp, err := s.deps.Records.GetImport(ctx, org(ctx), in.id(), in.ErrorLimit)
	return bodyOf(imp), err
}

type importTemplateOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

func (s *Server) importTemplate(_ context.Context, _ *struct{}) (*importTemplateOutput, error) {
	return &importTemplateOutput{
		ContentType:        "text/csv; charset=utf-8",
		ContentDisposition: `attachment; filename="service-records-template.csv"`,
		Body:               csvimport.Template(),
	}, nil
}

// importUploadInput streams the request body: it declares no Body, so huma
// leaves the body unread, and Resolve hands it to the handler.
type importUploadInput struct {
	FileName    string `query:"filename" maxLength:"255" doc:"The file's name, for a text/csv upload (a form's file part names itself)"`
	body        io.Reader
	contentType string
}

// Resolve implements huma.Resolver. It also lifts the server's read and
// write deadlines, which are sized for ordinary requests, to uploadTimeout.
func (in *importUploadInput) Resolve(ctx huma.Context) []error {
	in.contentType = ctx.Header("Content-Type")
	in.body = ctx.BodyReader()
	_, w := humachi.Unwrap(ctx)
	rc := http.NewResponseController(w)
	deadline := time.Now().Add(uploadTimeout)
	_ = rc.SetReadDeadline(deadline)  // unsupported writers keep the server's deadline
	_ = rc.SetWriteDeadline(deadline) // idem
	return nil
}

type importAccepted struct {
	Location string `header:"Location"`
	Body     record.Import
}

func (s *Server) importCreate(ctx context.Context, in *importUploadInput) (*importAccepted, error) {
	file, name, err := csvFile(in.contentType, in.body)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = in.FileName
	}
	imp, err := s.deps.Records.CreateImport(ctx, org(ctx), file, record.Upload{FileName: name})
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) || errors.Is(err, blob.ErrTooLarge) {
			return nil, huma.Error413RequestEntityTooLarge("the file is larger than the upload limit")
		}
		return nil, err
	}
	return &importAccepted{Location: importUploadPath + "/" + imp.ID.String(), Body: imp}, nil
}

// uploadCSVTypes are read as CSV as they are (spreadsheet tools and
// browsers label CSV files variously).
var uploadCSVTypes = map[string]bool{
	"text/csv": true, "application/csv": true, "text/plain": true, "application/vnd.ms-excel": true, "application/octet-stream": true,
}

// csvFile returns the CSV file of a request body sent as text/csv (or
// another CSV-ish type, or none) or as the "file" part of a
// multipart/form-data form, and the file's name when the form gives one.
// Nothing is buffered: the part is read from the body as it arrives.
func csvFile(contentType string, b io.Reader) (io.Reader, string, error) {
	if contentType == "" {
		return b, "", nil
	}
	mt, params, err := mime.ParseMediaType(contentType)
	switch {
	case err != nil:
		return nil, "", huma.Error415UnsupportedMediaType("send the file as text/csv or multipart/form-data")
	case uploadCSVTypes[mt]:
		return b, "", nil
	case mt != "multipart/form-data":
		return nil, "", huma.Error415UnsupportedMediaType("send the file as text/csv or multipart/form-data")
	case params["boundary"] == "":
		return nil, "", huma.Error400BadRequest("malformed multipart body: no boundary")
	}
	mr := multipart.NewReader(b, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, "", huma.Error422UnprocessableEntity("validation failed",
				&huma.ErrorDetail{Location: "body.file", Message: "the form has no file part (name it file)"})
		}
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return nil, "", huma.Error413RequestEntityTooLarge("the file is larger than the upload limit")
			}
			return nil, "", huma.Error400BadRequest("malformed multipart body: " + err.Error())
		}
		if part.FormName() == "file" {
			return part, part.FileName(), nil
		}
	}
}

// handleStreamUpload registers h like handle and documents its body as a
// CSV file, sent as is or in a form.
func handleStreamUpload[I, O any](h func(context.Context, *I) (*O, error)) registrar {
	return func(s *Server, api huma.API, op huma.Operation) {
		handle(h)(s, api, op)
		item := api.OpenAPI().Paths[op.Path]
		item.Post.RequestBody = &huma.RequestBody{
			Required: true,
			Description: "A CSV file of service records (see GET /api/v1/service-records/imports/template), " +
				"up to 200 MiB, sent as the body (text/csv) or as the file part of a form. It is streamed to storage, never held in memory. " +
				"Idempotency-Key does not apply to this route: importing a file again changes nothing.",
			Content: map[string]*huma.MediaType{
				"text/csv": {Schema: &huma.Schema{Type: huma.TypeString}},
				"multipart/form-data": {Schema: &huma.Schema{
					Type:       huma.TypeObject,
					Required:   []string{"file"},
					Properties: map[string]*huma.Schema{"file": {Type: huma.TypeString, Format: "binary"}},
				}},
			},
		}
	}
}
