package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/autopulse/autopulse/internal/campaign"
)

type dncListInput struct {
	ListParams
	Phone  string `query:"phone" maxLength:"32" doc:"Entries whose number contains these digits"`
	Source string `query:"source" enum:"manual,call_opt_out,sms_stop,import" doc:"Only entries from this source"`
}

func (s *Server) dncList(ctx context.Context, in *dncListInput) (*body[list[campaign.DNCEntry]], error) {
	pr, err := in.page()
	if err != nil {
		return nil, err
	}
	items, next, err := s.deps.Campaigns.ListDNC(ctx, org(ctx), campaign.DNCFilter{Phone: in.Phone, Source: in.Source}, pr)
	if err != nil {
		return nil, err
	}
	return listOf(items, next), nil
}

type dncAddInput struct {
	Body campaign.DNCInput
}

// dncAddOutput is 201 with the new entry, or 200 with the entry that
// already listed the number: adding a listed number is idempotent.
type dncAddOutput struct {
	Status int
	Body   campaign.DNCEntry
}

func (s *Server) dncAdd(ctx context.Context, in *dncAddInput) (*dncAddOutput, error) {
	e, created, err := s.deps.Campaigns.AddDNC(ctx, org(ctx), in.Body)
	if err != nil {
		return nil, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return &dncAddOutput{Status: status, Body: e}, nil
}

func (s *Server) dncGet(ctx context.Context, in *IDPath) (*body[campaign.DNCEntry], error) {
	e, err := s.deps.Campaigns.GetDNC(ctx, org(ctx), in.id())
	return bodyOf(e), err
}

func (s *Server) dncDelete(ctx context.Context, in *IDPath) (*noContent, error) {
	return nil, s.deps.Campaigns.DeleteDNC(ctx, org(ctx), in.id())
}

type dncImportInput struct {
	CSVUpload
}

func (s *Server) dncImport(ctx context.Context, in *dncImportInput) (*body[campaign.DNCImport], error) {
	f, err := in.file()
	if err != nil {
		return nil, err
	}
	rep, err := s.deps.Campaigns.ImportDNC(ctx, org(ctx), f)
	return bodyOf(rep), err
}

// CSVUpload is the input of an operation that takes a CSV file, sent as
// the body (text/csv) or as the "file" part of a multipart/form-data
// form. The body size limit applies to either.
type CSVUpload struct {
	RawBody     []byte `contentType:"text/csv"`
	contentType string
}

// Resolve implements huma.Resolver.
func (u *CSVUpload) Resolve(ctx huma.Context) []error {
	u.contentType = ctx.Header("Content-Type")
	return nil
}

// csvContentTypes are read as CSV as they are (spreadsheet tools and
// browsers label CSV files variously).
var csvContentTypes = map[string]bool{
	"text/csv": true, "application/csv": true, "text/plain": true, "application/vnd.ms-excel": true,
}

// file returns the uploaded file: 415 for another content type, 400 for a
// malformed form, 422 for a form without a file.
func (u *CSVUpload) file() (io.Reader, error) {
	if u.contentType == "" {
		return bytes.NewReader(u.RawBody), nil
	}
	mt, params, err := mime.ParseMediaType(u.contentType)
	switch {
	case err != nil:
		return nil, huma.Error415UnsupportedMediaType("send the file as text/csv or multipart/form-data")
	case csvContentTypes[mt]:
		return bytes.NewReader(u.RawBody), nil
	case mt != "multipart/form-data":
		return nil, huma.Error415UnsupportedMediaType("send the file as text/csv or multipart/form-data")
	case params["boundary"] == "":
		return nil, huma.Error400BadRequest("malformed multipart body: no boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(u.RawBody), params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, huma.Error422UnprocessableEntity("validation failed",
				&huma.ErrorDetail{Location: "body.file", Message: "the form has no file part (name it file)"})
		}
		if err != nil {
			return nil, huma.Error400BadRequest("malformed multipart body: " + err.Error())
		}
		if part.FormName() == "file" || part.FileName() != "" {
			return part, nil
		}
	}
}

// handleUpload registers h like handle and documents its body as a CSV
// file, sent as is or in a form.
func handleUpload[I, O any](h func(context.Context, *I) (*O, error)) registrar {
	return func(s *Server, api huma.API, op huma.Operation) {
		handle(h)(s, api, op)
		item := api.OpenAPI().Paths[op.Path]
		registered := map[string]*huma.Operation{http.MethodPost: item.Post, http.MethodPut: item.Put}[op.Method]
		registered.RequestBody = &huma.RequestBody{
			Required:    true,
			Description: "A CSV file: a header row naming a phone column (and optionally reason), or a single column of numbers",
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
