package httpapi_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/record"
)

const importsPath = "/api/v1/service-records/imports"

const csvHeader = "ro_number,service_date,first_name,last_name,cell_phone,vin,make,model,mileage,CustNo,Tech\n"

// csvRow is one line of a file with csvHeader.
func csvRow(ro, date, phone, vin string, mileage int) string {
	return fmt.Sprintf("%s,%s,Jordan,Lee,%s,%s,Honda,Accord,%d,C-%s,T1\n", ro, date, phone, vin, mileage, ro)
}

// sampleCSV has n valid rows, RO-1 to RO-n, each its own customer.
func sampleCSV(n int) string {
	var b strings.Builder
	b.WriteString(csvHeader)
	for i := 1; i <= n; i++ {
		b.WriteString(csvRow(fmt.Sprintf("RO-%d", i), "2026-03-02", fmt.Sprintf("(202) 555-01%02d", i%100), "", 1000*i))
	}
	return b.String()
}

// upload posts a CSV file as text/csv.
func (e *env) upload(t *testing.T, tok reqOpt, content string, opts ...reqOpt) *response {
	t.Helper()
	return e.do(t, http.MethodPost, importsPath, append([]reqOpt{tok, withRaw("text/csv", content)}, opts...)...)
}

// importFile uploads content, runs its import and returns the result.
func (e *env) importFile(t *testing.T, tn *tenant, content string) record.Import {
	t.Helper()
	res := e.upload(t, withToken(tn.Owner.Token), content)
	requireStatus(t, http.StatusAccepted, res)
	var imp record.Import
	res.decode(t, &imp)
	require.Equal(t, record.ImportPending, imp.Status)
	e.runImport(t, tn, imp.ID)
	return e.getImport(t, tn, imp.ID)
}

func (e *env) getImport(t *testing.T, tn *tenant, id uuid.UUID) record.Import {
	t.Helper()
	res := e.do(t, http.MethodGet, importsPath+"/"+id.String()+"?error_limit=10000", withToken(tn.Owner.Token))
	requireStatus(t, http.StatusOK, res)
	var imp record.Import
	res.decode(t, &imp)
	return imp
}

func TestImportsUploadAndPoll(t *testing.T) {
	t.Parallel()
	e := setup(t, withWorkers())
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)

	content := csvHeader +
		csvRow("RO-1", "2026-03-02", "(202) 555-0101", "1HGCM82633A004352", 42000) +
		csvRow("RO-2", "03/04/2026", "202.555.0102", "", 12000) +
		"\n" +
		csvRow("RO-3", "2026-03-05", "call me", "", 9000) +
		csvRow("RO-4", "2026-03-06", "+1 202 555 0104", "", 7000)
	res := e.upload(t, tok, content, withHeader("Idempotency-Key", "ignored-on-uploads"))
	requireStatus(t, http.StatusAccepted, res)
	var imp record.Import
	res.decode(t, &imp)
	require.Equal(t, importsPath+"/"+imp.ID.String(), res.Header.Get("Location"))
	require.Equal(t, record.ImportSourceUpload, imp.Source)
	require.Equal(t, int64(len(content)), *imp.SizeBytes)
	require.Len(t, *imp.SHA256, 64)

	// Poll until the worker has run it.
	require.Eventually(t, func() bool {
		imp = e.getImport(t, tn, imp.ID)
		return imp.Status == record.ImportCompleted || imp.Status == record.ImportFailed
	}, 30*time.Second, 100*time.Millisecond)
	require.Equal(t, record.ImportCompleted, imp.Status, "failure: %s", imp.Failure)
	require.Equal(t, record.ImportCounts{Rows: 4, Inserted: 3, Invalid: 1, CustomersCreated: 3, VehiclesCreated: 3}, imp.Counts)
	require.Equal(t, ",", *imp.Delimiter)
	require.Equal(t, 1, imp.ErrorsTotal)
	require.Len(t, imp.Errors, 1)
	require.Equal(t, 5, imp.Errors[0].Line, "file lines count the header and the blank line")
	require.Equal(t, "cell_phone", imp.Errors[0].Column)
	require.Contains(t, imp.Errors[0].Reason, "call me")
	require.NotNil(t, imp.FinishedAt)

	res = e.do(t, http.MethodGet, "/api/v1/service-records?source=csv", tok)
	requireStatus(t, http.StatusOK, res)
	var l struct{ Items []record.ServiceRecord }
	res.decode(t, &l)
	require.Len(t, l.Items, 3)
	byRO := map[string]record.ServiceRecord{}
	for _, r := range l.Items {
		byRO[r.RONumber] = r
	}
	require.Equal(t, "2026-03-04", byRO["RO-2"].ServiceDate)
	require.Equal(t, "T1", byRO["RO-1"].Raw["Tech"], "unknown columns go into raw")
	require.Equal(t, "+12025550104", *byRO["RO-4"].Customer.Phone)

	res = e.do(t, http.MethodGet, importsPath, tok)
	requireStatus(t, http.StatusOK, res)
	var imps struct{ Items []record.Import }
	res.decode(t, &imps)
	require.Len(t, imps.Items, 1)
	require.Empty(t, imps.Items[0].Errors, "lists carry no row errors")
	require.Empty(t, e.spooled(t), "the spooled upload is deleted once loaded")
}

// spooled lists the files left in the blob store.
func (e *env) spooled(t *testing.T) []string {
	t.Helper()
	var files []string
	require.NoError(t, filepath.WalkDir(e.blobDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	}))
	return files
}

func TestImportsMultipart(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)

	form := func(field, name, content string) reqOpt {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		require.NoError(t, w.WriteField("note", "March export"))
		part, err := w.CreateFormFile(field, name)
		require.NoError(t, err)
		_, _ = part.Write([]byte(content))
		require.NoError(t, w.Close())
		return withRaw(w.FormDataContentType(), b.String())
	}
	res := e.do(t, http.MethodPost, importsPath, tok, form("file", `C:\exports\march.csv`, sampleCSV(3)))
	requireStatus(t, http.StatusAccepted, res)
	var imp record.Import
	res.decode(t, &imp)
	require.Equal(t, "march.csv", imp.FileName)
	e.runImport(t, tn, imp.ID)
	imp = e.getImport(t, tn, imp.ID)
	require.Equal(t, record.ImportCompleted, imp.Status)
	require.Equal(t, 3, imp.Counts.Inserted)

	res = e.do(t, http.MethodPost, importsPath, tok, form("upload", "march.csv", sampleCSV(1)))
	requireStatus(t, http.StatusUnprocessableEntity, res)
	require.Equal(t, "body.file", res.problem(t).Errors[0].Location)
	res = e.do(t, http.MethodPost, importsPath, tok, withRaw("multipart/form-data", "x"))
	requireStatus(t, http.StatusBadRequest, res)
	res = e.do(t, http.MethodPost, importsPath, tok, withRaw("application/json", `{"file":"x"}`))
	requireStatus(t, http.StatusUnsupportedMediaType, res)
	res = e.do(t, http.MethodPost, importsPath+"?filename=feb.csv", tok, withRaw("text/csv", sampleCSV(1)))
	requireStatus(t, http.StatusAccepted, res)
	res.decode(t, &imp)
	require.Equal(t, "feb.csv", imp.FileName)
}

// Importing the same file again creates nothing and changes nothing; a
// changed file updates what changed.
func TestImportsReimportIsIdempotent(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)

	content := sampleCSV(20)
	first := e.importFile(t, tn, content)
	require.Equal(t, record.ImportCounts{Rows: 20, Inserted: 20, CustomersCreated: 20, VehiclesCreated: 20}, first.Counts)
	second := e.importFile(t, tn, content)
	require.Equal(t, record.ImportCounts{Rows: 20, Unchanged: 20, Skipped: 20}, second.Counts)
	require.Equal(t, 20, e.countRows(t, "service_records", tn.OrgID))
	require.Equal(t, 20, e.countRows(t, "customers", tn.OrgID))

	changed := strings.Replace(content, "RO-7,2026-03-02,Jordan,Lee,(202) 555-0107,,Honda,Accord,7000", "RO-7,2026-03-02,Jordan,Lee,(202) 555-0107,,Honda,Accord,7100", 1)
	require.NotEqual(t, content, changed)
	changed += csvRow("RO-21", "2026-03-09", "(202) 555-0121", "", 1) + csvRow("RO-3", "2026-03-09", "(202) 555-0103", "", 5)
	third := e.importFile(t, tn, changed)
	require.Equal(t, record.ImportCounts{Rows: 22, Inserted: 1, Updated: 2, Unchanged: 18, Duplicates: 1, Skipped: 19, CustomersCreated: 1, VehiclesCreated: 1}, third.Counts)
	require.Len(t, third.Warnings, 1)
	require.Equal(t, 4, third.Warnings[0].Line, "RO-3's first row")
	require.Contains(t, third.Warnings[0].Reason, "line 23")
	require.Equal(t, 21, e.countRows(t, "service_records", tn.OrgID))
}

func TestImportsBadFiles(t *testing.T) {
	t.Parallel()
	e := setup(t)

	// A record that never ends: an unterminated quote swallows the rest of
	// the file, past the reader's 1 MiB record limit.
	var runaway strings.Builder
	runaway.WriteString(sampleCSV(3))
	runaway.WriteString(`RO-X,2026-03-02,"Jordan,Lee,(202) 555-0199,,Honda,Accord,1,C-X,T1` + "\n")
	for runaway.Len() < 1<<20+4096 {
		runaway.WriteString(csvRow("RO-Y", "2026-03-02", "(202) 555-0198", "", 1))
	}

	tests := []struct {
		name     string
		content  string
		upload   int    // status of the upload
		detail   string // in the upload's problem
		status   string // of the import
		inserted int
		invalid  int
		reasons  []string // in the row errors, in order
		failure  string
	}{
		{name: "bom and crlf", content: "\xEF\xBB\xBF" + strings.ReplaceAll(sampleCSV(2), "\n", "\r\n"), upload: 202, status: "completed", inserted: 2},
		{name: "semicolons", content: strings.ReplaceAll(sampleCSV(2), ",", ";"), upload: 202, status: "completed", inserted: 2},
		{name: "tabs", content: strings.ReplaceAll(sampleCSV(2), ",", "\t"), upload: 202, status: "completed", inserted: 2},
		{name: "wrong delimiter", content: strings.ReplaceAll(sampleCSV(2), ",", ":"), upload: 422, detail: "delimiter"},
		{name: "empty", content: "", upload: 422, detail: "empty"},
		{name: "blank lines only", content: "\n\r\n\n", upload: 422, detail: "empty"},
		{name: "missing phone column", content: "ro_number,service_date\nRO-1,2026-03-02\n", upload: 422, detail: "phone"},
		{name: "utf-16", content: "\xFF\xFEr\x00o\x00", upload: 422, detail: "UTF-16"},
		{name: "binary", content: "\x00\x01\x02\x03PK\x03\x04", upload: 422},
		{name: "header only", content: csvHeader, upload: 202, status: "completed"},
		{
			name:    "unparseable phones",
			content: csvHeader + csvRow("RO-1", "2026-03-02", "555-CALL-NOW", "", 1) + csvRow("RO-2", "2026-03-02", "(202) 555-0102", "", 1) + csvRow("RO-3", "2026-03-02", "12", "", 1),
			upload:  202, status: "completed", inserted: 1, invalid: 2, reasons: []string{"555-CALL-NOW", "12"},
		},
		{
			name:    "truncated",
			content: sampleCSV(2) + "RO-3,2026-03-0",
			upload:  202, status: "completed", inserted: 2, invalid: 1, reasons: []string{"values but the header has"},
		},
		{
			name:    "bad values",
			content: csvHeader + csvRow("RO-1", "2026-02-30", "(202) 555-0101", "", 1) + csvRow("RO-2", "2026-03-02", "(202) 555-0102", "TOOSHORT", 1) + ",2026-03-02,A,B,(202) 555-0103,,,,1,,\n",
			upload:  202, status: "completed", invalid: 3, reasons: []string{"", "VIN", "RO number"},
		},
		{
			name:    "ragged row",
			content: sampleCSV(1) + "RO-2,2026-03-02,Jordan,Lee,(202) 555-0102,,Honda,Accord,1,C-2,T1,extra\n",
			upload:  202, status: "completed", inserted: 1, invalid: 1, reasons: []string{"12 values but the header has 11"},
		},
		{
			name:    "not utf-8",
			content: sampleCSV(1) + "RO-2,2026-03-02,J\xF6rg,Lee,(202) 555-0102,,Honda,Accord,1,C-2,T1\n",
			upload:  202, status: "completed", inserted: 1, invalid: 1, reasons: []string{"UTF-8"},
		},
		{
			name:    "stray quote",
			content: sampleCSV(1) + `RO-2,2026-03-02,Jordan "JJ",Lee,(202) 555-0102,,Honda,Accord,1,C-2,T1` + "\n" + csvRow("RO-3", "2026-03-02", "(202) 555-0103", "", 1),
			upload:  202, status: "completed", inserted: 2, invalid: 1, reasons: []string{`"`},
		},
		{name: "runaway quote", content: runaway.String(), upload: 202, status: "failed", failure: "unterminated quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn := e.newTenant(t)
			res := e.upload(t, withToken(tn.Owner.Token), tt.content)
			requireStatus(t, tt.upload, res)
			if tt.upload != http.StatusAccepted {
				p := res.problem(t)
				require.Contains(t, p.Detail, tt.detail)
				return
			}
			var imp record.Import
			res.decode(t, &imp)
			e.runImport(t, tn, imp.ID)
			imp = e.getImport(t, tn, imp.ID)
			require.Equal(t, tt.status, imp.Status, "failure: %s", imp.Failure)
			require.Equal(t, tt.inserted, imp.Counts.Inserted)
			require.Equal(t, tt.invalid, imp.Counts.Invalid)
			require.Equal(t, tt.inserted, e.countRows(t, "service_records", tn.OrgID))
			require.GreaterOrEqual(t, len(imp.Errors), len(tt.reasons))
			for i, reason := range tt.reasons {
				require.Contains(t, imp.Errors[i].Reason, reason)
				require.Positive(t, imp.Errors[i].Line)
			}
			require.Contains(t, imp.Failure, tt.failure)
		})
	}
	// Rejected uploads are not kept.
	require.Empty(t, e.spooled(t))
}

func TestImportsOversized(t *testing.T) {
	t.Parallel()
	e := setup(t, withMaxUpload(64<<10))
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)

	big := sampleCSV(2000) // about 110 KiB
	res := e.upload(t, tok, big)
	requireStatus(t, http.StatusRequestEntityTooLarge, res)
	res.problem(t)

	// Past the route's limit, the length alone is refused before reading.
	huge := strings.Repeat("x", (64<<10)+(1<<20)+1)
	res = e.upload(t, tok, huge)
	requireStatus(t, http.StatusRequestEntityTooLarge, res)

	// A chunked body (no length) is cut off at the limit too.
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+importsPath, strings.NewReader(huge)) //nolint:noctx // test
	require.NoError(t, err)
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer "+tn.Owner.Token)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := e.srv.Client().Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)

	res = e.do(t, http.MethodGet, importsPath, tok)
	requireStatus(t, http.StatusOK, res)
	var imps struct{ Items []record.Import }
	res.decode(t, &imps)
	require.Empty(t, imps.Items)
	require.Empty(t, e.spooled(t))
}

func TestImportsTemplate(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	res := e.do(t, http.MethodGet, importsPath+"/template", withToken(tn.Owner.Token))
	requireStatus(t, http.StatusOK, res)
	require.Equal(t, "text/csv; charset=utf-8", res.Header.Get("Content-Type"))
	require.Contains(t, res.Header.Get("Content-Disposition"), "attachment")
	require.True(t, strings.HasPrefix(string(res.Body), "ro_number,service_date,"), "body: %s", res.Body)

	// The template imports as it is.
	imp := e.importFile(t, tn, string(res.Body)+"\n")
	require.Equal(t, record.ImportCompleted, imp.Status)
	require.Equal(t, 1, imp.Counts.Inserted)
	require.Equal(t, 1, imp.Counts.VehiclesCreated)
}

// Row issues are kept up to a cap; the totals count them all.
func TestImportsErrorCap(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	var b strings.Builder
	b.WriteString("ro_number,service_date,phone\n")
	for i := range 10_050 {
		fmt.Fprintf(&b, "R%d,2026-03-02,nope\n", i)
	}
	b.WriteString("OK-1,2026-03-02,(202) 555-0101\n")
	imp := e.importFile(t, tn, b.String())
	require.Equal(t, record.ImportCompleted, imp.Status)
	require.Equal(t, 10_050, imp.Counts.Invalid)
	require.Equal(t, 1, imp.Counts.Inserted)
	require.Equal(t, 10_050, imp.ErrorsTotal)
	require.True(t, imp.IssuesTruncated)
	require.Len(t, imp.Errors, 10_000)
	require.Equal(t, 2, imp.Errors[0].Line)

	res := e.do(t, http.MethodGet, importsPath+"/"+imp.ID.String(), withToken(tn.Owner.Token))
	requireStatus(t, http.StatusOK, res)
	var def record.Import
	res.decode(t, &def)
	require.Len(t, def.Errors, 100, "100 errors by default")
}

func TestImportsTenantWall(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	other := e.newTenant(t)
	theirs := e.importFile(t, other, sampleCSV(2))

	res := e.do(t, http.MethodGet, importsPath+"/"+theirs.ID.String(), withToken(tn.Owner.Token))
	requireStatus(t, http.StatusNotFound, res)
	res = e.do(t, http.MethodGet, importsPath, withToken(tn.Owner.Token))
	requireStatus(t, http.StatusOK, res)
	var imps struct{ Items []record.Import }
	res.decode(t, &imps)
	require.Empty(t, imps.Items)
	// Running another tenant's import as this tenant finds nothing to do.
	require.NoError(t, e.records.RunImport(t.Context(), tn.OrgID, theirs.ID, false))
	require.Equal(t, 0, e.countRows(t, "service_records", tn.OrgID))

	for _, bad := range []string{"not-a-uuid", uuid.NewString()} {
		res = e.do(t, http.MethodGet, importsPath+"/"+bad, withToken(tn.Owner.Token))
		require.Contains(t, []int{http.StatusNotFound, http.StatusUnprocessableEntity}, res.Status)
	}
	res = e.do(t, http.MethodGet, importsPath+"?status=done", withToken(tn.Owner.Token))
	requireStatus(t, http.StatusUnprocessableEntity, res)
	res = e.do(t, http.MethodGet, importsPath+"/"+theirs.ID.String()+"?error_limit=10001", withToken(tn.Owner.Token))
	requireStatus(t, http.StatusUnprocessableEntity, res)
}
