package csvimport

import (
	"bytes"
	"encoding/csv"
)

// templateFields are the template's columns, in order.
var templateFields = []field{
	fieldRONumber, fieldServiceDate, fieldClosedAt, fieldStatus, fieldServiceType, fieldOpCodes,
	fieldAdvisorName, fieldMileage, fieldTotalAmount, fieldPayType,
	fieldDMSCustomerID, fieldFirstName, fieldLastName, fieldPhone, fieldEmail,
	fieldAddress, fieldCity, fieldState, fieldPostalCode,
	fieldVIN, fieldYear, fieldMake, fieldModel, fieldTrim,
}

// templateExample is one fictional row (555-01xx numbers are reserved for
// fiction; the VIN is a well-known example whose check digit is valid).
var templateExample = map[field]string{
	fieldRONumber:      "RO-100234",
	fieldServiceDate:   "2026-03-02",
	fieldClosedAt:      "2026-03-02T16:45:00-05:00",
	fieldStatus:        "closed",
	fieldServiceType:   "Oil change",
	fieldOpCodes:       "LOF;ROT",
	fieldAdvisorName:   "Dana Reyes",
	fieldMileage:       "42180",
	fieldTotalAmount:   "189.95",
	fieldPayType:       "customer",
	fieldDMSCustomerID: "C-55012",
	fieldFirstName:     "Jordan",
	fieldLastName:      "Lee",
	fieldPhone:         "(202) 555-0143",
	fieldEmail:         "jordan.lee@example.com",
	fieldAddress:       "1600 Example Ave",
	fieldCity:          "Springfield",
	fieldState:         "VA",
	fieldPostalCode:    "22150",
	fieldVIN:           "1HGCM82633A004352",
	fieldYear:          "2003",
	fieldMake:          "Honda",
	fieldModel:         "Accord",
	fieldTrim:          "EX",
}

// Template returns the CSV template: the canonical headers and one example
// row. Required columns: ro_number, service_date (or closed_at) and phone.
func Template() []byte {
	header := make([]string, len(templateFields))
	example := make([]string, len(templateFields))
	for i, f := range templateFields {
		header[i] = fieldNames[f]
		example[i] = templateExample[f]
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(header)  // a bytes.Buffer does not fail
	_ = w.Write(example) // idem
	w.Flush()
	return buf.Bytes()
}
