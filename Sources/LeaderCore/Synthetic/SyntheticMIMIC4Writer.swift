/// Writes the synthetic cohort as a MIMIC-IV v2.x `hosp/` folder (lower-case headers, ICD version column, anchor
/// age and year instead of a date of birth): the same patients, admissions and rows as the MIMIC-III layout.
enum SyntheticMIMIC4Writer {
    static func write(_ generator: PatientGenerator, _ config: SyntheticConfig, to directory: String,
                      progress: ((Int) -> Bool)?) throws(LeaderError) -> SyntheticSummary {
        let catalog = generator.catalog
        let hosp = directory + "/hosp/"
        let strings = ProfileStrings()
        var hadm = 100_000
        var summary = try SyntheticTables.write(.mimic4, generator, config, in: directory, progress: progress) {
            (t: inout SyntheticTables) in
            t.patients.text("subject_id,gender,anchor_age,anchor_year,anchor_year_group,dod\n")
            t.admissions.text("subject_id,hadm_id,admittime,dischtime,deathtime,admission_type,admit_provider_id,"
                + "admission_location,discharge_location,insurance,language,marital_status,race,edregtime,edouttime,"
                + "hospital_expire_flag\n")
            t.diagnoses.text("subject_id,hadm_id,seq_num,icd_code,icd_version\n")
            t.procedures.text("subject_id,hadm_id,seq_num,chartdate,icd_code,icd_version\n")
            t.prescriptions.text("subject_id,hadm_id,pharmacy_id,poe_id,poe_seq,order_provider_id,starttime,stoptime,"
                + "drug_type,drug,formulary_drug_cd,gsn,ndc,prod_strength,form_rx,dose_val_rx,dose_unit_rx,form_val_disp,"
                + "form_unit_disp,doses_per_24_hrs,route\n")
        } patient: { (t: inout SyntheticTables, p: SyntheticPatient, index: Int, summary: inout SyntheticSummary)
            throws(LeaderError) in
            let subject = 10_000 + index

            // anchor: the year of the first admission and the whole years of age on its 1 January
            let firstDay = (p.admissions.first?.admitMinute ?? 0) / 1440
            let anchorYear = CivilTime.civil(days: firstDay).year
            let anchorAge = min(91, max(0, ageYears(dobDay: p.dobDay, year: anchorYear)))
            summary.patientsRows += 1
            t.patients.int(subject); t.patients.comma()
            t.patients.byte(p.profile.gender == .female ? UInt8(ascii: "F") : UInt8(ascii: "M")); t.patients.comma()
            t.patients.int(anchorAge); t.patients.comma()
            t.patients.int(anchorYear); t.patients.comma()
            t.patients.text("2008 - 2010"); t.patients.comma()
            if let d = p.deathDay { t.patients.date(day: d) }
            t.patients.newline()

            for a in p.admissions {
                hadm += 1
                summary.admissionsRows += 1
                t.admissions.int(subject); t.admissions.comma()
                t.admissions.int(hadm); t.admissions.comma()
                t.admissions.dateTime(minute: a.admitMinute); t.admissions.comma()
                t.admissions.dateTime(minute: a.dischargeMinute); t.admissions.comma()
                if a.died { t.admissions.dateTime(minute: a.dischargeMinute) }
                t.admissions.comma()
                t.admissions.bytes(strings.types[a.admissionType]); t.admissions.comma()
                t.admissions.comma()   // admit_provider_id
                t.admissions.bytes(strings.admissionLocations[a.admissionLocation]); t.admissions.comma()
                t.admissions.bytes(strings.dischargeLocations[a.dischargeLocation]); t.admissions.comma()
                t.admissions.bytes(strings.insurances[p.profile.insurance.rawValue]); t.admissions.comma()
                t.admissions.bytes(strings.languages[p.profile.language]); t.admissions.comma()
                t.admissions.bytes(strings.maritals[p.profile.marital.rawValue]); t.admissions.comma()
                t.admissions.bytes(strings.ethnicities[p.profile.ethnicityString]); t.admissions.comma()
                if let e = a.edRegMinute { t.admissions.dateTime(minute: e) }
                t.admissions.comma()
                if let e = a.edOutMinute { t.admissions.dateTime(minute: e) }
                t.admissions.comma()
                t.admissions.byte(a.died ? UInt8(ascii: "1") : UInt8(ascii: "0")); t.admissions.newline()

                for (seq, code) in a.diagnoses.enumerated() {
                    summary.diagnosesRows += 1
                    t.diagnoses.int(subject); t.diagnoses.comma()
                    t.diagnoses.int(hadm); t.diagnoses.comma()
                    t.diagnoses.int(seq + 1); t.diagnoses.comma()
                    t.diagnoses.bytes(catalog.diagnoses[code].csv); t.diagnoses.text(",9\n")
                }
                for (seq, code) in a.procedures.enumerated() {
                    summary.proceduresRows += 1
                    t.procedures.int(subject); t.procedures.comma()
                    t.procedures.int(hadm); t.procedures.comma()
                    t.procedures.int(seq + 1); t.procedures.comma()
                    t.procedures.date(day: a.admitMinute / 1440); t.procedures.comma()
                    t.procedures.bytes(catalog.procedures[code].csv); t.procedures.text(",9\n")
                }
                for rx in a.prescriptions {
                    summary.prescriptionsRows += 1
                    t.prescriptions.int(subject); t.prescriptions.comma()
                    t.prescriptions.int(hadm); t.prescriptions.comma()
                    t.prescriptions.int(summary.prescriptionsRows); t.prescriptions.text(",,,,")   // pharmacy_id; poe ids
                    t.prescriptions.dateMidnight(day: rx.startDay); t.prescriptions.comma()
                    t.prescriptions.dateMidnight(day: rx.endDay); t.prescriptions.comma()
                    t.prescriptions.bytes(catalog.products[rx.product].csv4Tail); t.prescriptions.newline()
                }
            }
        }

        for (name, codes) in [("d_icd_diagnoses.csv", catalog.diagnoses), ("d_icd_procedures.csv", catalog.procedures)] {
            var s = try ByteSink(path: hosp + name)
            s.text("icd_code,icd_version,long_title\n")
            for code in codes { s.bytes(code.csv); s.text(",9,"); s.field(code.longTitle); s.newline() }
            try s.finish()
            summary.bytes += s.bytesWritten
        }
        return summary
    }

    /// Whole years from the day of birth to 1 January of `year`.
    static func ageYears(dobDay: Int, year: Int) -> Int {
        let b = CivilTime.civil(days: dobDay)
        return year - b.year - 1 + ((b.month == 1 && b.day == 1) ? 1 : 0)
    }
}
