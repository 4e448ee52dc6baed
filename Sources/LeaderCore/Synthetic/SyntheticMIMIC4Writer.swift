/// Writes the synthetic cohort as a MIMIC-IV v2.x `hosp/` folder (lower-case headers, ICD version column, anchor
/// age and year instead of a date of birth): the same patients, admissions and rows as the MIMIC-III layout.
enum SyntheticMIMIC4Writer {
    static func write(_ generator: PatientGenerator, _ config: SyntheticConfig, to directory: String,
                      progress: ((Int) -> Bool)?) throws(LeaderError) -> SyntheticSummary {
        let catalog = generator.catalog
        var summary = SyntheticSummary()
        summary.format = .mimic4
        var tally = SyntheticTally(catalog)
        let hosp = directory + "/hosp/"
        var patients = try ByteSink(path: hosp + "patients.csv")
        var admissions = try ByteSink(path: hosp + "admissions.csv")
        var diagnoses = try ByteSink(path: hosp + "diagnoses_icd.csv")
        var procedures = try ByteSink(path: hosp + "procedures_icd.csv")
        var prescriptions = try ByteSink(path: hosp + "prescriptions.csv")
        patients.text("subject_id,gender,anchor_age,anchor_year,anchor_year_group,dod\n")
        admissions.text("subject_id,hadm_id,admittime,dischtime,deathtime,admission_type,admit_provider_id,"
            + "admission_location,discharge_location,insurance,language,marital_status,race,edregtime,edouttime,"
            + "hospital_expire_flag\n")
        diagnoses.text("subject_id,hadm_id,seq_num,icd_code,icd_version\n")
        procedures.text("subject_id,hadm_id,seq_num,chartdate,icd_code,icd_version\n")
        prescriptions.text("subject_id,hadm_id,pharmacy_id,poe_id,poe_seq,order_provider_id,starttime,stoptime,"
            + "drug_type,drug,formulary_drug_cd,gsn,ndc,prod_strength,form_rx,dose_val_rx,dose_unit_rx,form_val_disp,"
            + "form_unit_disp,doses_per_24_hrs,route\n")
        let strings = ProfileStrings()
        var hadm = 100_000
        for index in 0..<config.patients {
            let p = generator.patient(index)
            let subject = 10_000 + index
            tally.add(p, catalog: catalog, to: &summary)

            // anchor: the year of the first admission and the whole years of age on its 1 January
            let firstDay = (p.admissions.first?.admitMinute ?? 0) / 1440
            let anchorYear = CivilTime.civil(days: firstDay).year
            let anchorAge = min(91, max(0, ageYears(dobDay: p.dobDay, year: anchorYear)))
            summary.patientsRows += 1
            patients.int(subject); patients.comma()
            patients.byte(p.profile.gender == .female ? UInt8(ascii: "F") : UInt8(ascii: "M")); patients.comma()
            patients.int(anchorAge); patients.comma()
            patients.int(anchorYear); patients.comma()
            patients.text("2008 - 2010"); patients.comma()
            if let d = p.deathDay { patients.date(day: d) }
            patients.newline()

            for a in p.admissions {
                hadm += 1
                summary.admissionsRows += 1
                admissions.int(subject); admissions.comma()
                admissions.int(hadm); admissions.comma()
                admissions.dateTime(minute: a.admitMinute); admissions.comma()
                admissions.dateTime(minute: a.dischargeMinute); admissions.comma()
                if a.died { admissions.dateTime(minute: a.dischargeMinute) }
                admissions.comma()
                admissions.bytes(strings.types[a.admissionType]); admissions.comma()
                admissions.comma()   // admit_provider_id
                admissions.bytes(strings.admissionLocations[a.admissionLocation]); admissions.comma()
                admissions.bytes(strings.dischargeLocations[a.dischargeLocation]); admissions.comma()
                admissions.bytes(strings.insurances[p.profile.insurance.rawValue]); admissions.comma()
                admissions.bytes(strings.languages[p.profile.language]); admissions.comma()
                admissions.bytes(strings.maritals[p.profile.marital.rawValue]); admissions.comma()
                admissions.bytes(strings.ethnicities[p.profile.ethnicityString]); admissions.comma()
                if let e = a.edRegMinute { admissions.dateTime(minute: e) }
                admissions.comma()
                if let e = a.edOutMinute { admissions.dateTime(minute: e) }
                admissions.comma()
                admissions.byte(a.died ? UInt8(ascii: "1") : UInt8(ascii: "0")); admissions.newline()

                for (seq, code) in a.diagnoses.enumerated() {
                    summary.diagnosesRows += 1
                    diagnoses.int(subject); diagnoses.comma()
                    diagnoses.int(hadm); diagnoses.comma()
                    diagnoses.int(seq + 1); diagnoses.comma()
                    diagnoses.bytes(catalog.diagnoses[code].csv); diagnoses.text(",9\n")
                }
                for (seq, code) in a.procedures.enumerated() {
                    summary.proceduresRows += 1
                    procedures.int(subject); procedures.comma()
                    procedures.int(hadm); procedures.comma()
                    procedures.int(seq + 1); procedures.comma()
                    procedures.date(day: a.admitMinute / 1440); procedures.comma()
                    procedures.bytes(catalog.procedures[code].csv); procedures.text(",9\n")
                }
                for rx in a.prescriptions {
                    summary.prescriptionsRows += 1
                    prescriptions.int(subject); prescriptions.comma()
                    prescriptions.int(hadm); prescriptions.comma()
                    prescriptions.int(summary.prescriptionsRows); prescriptions.text(",,,,")   // pharmacy_id; poe ids
                    prescriptions.dateMidnight(day: rx.startDay); prescriptions.comma()
                    prescriptions.dateMidnight(day: rx.endDay); prescriptions.comma()
                    prescriptions.bytes(catalog.products[rx.product].csv4Tail); prescriptions.newline()
                }
            }
            try patients.flushIfFull(); try admissions.flushIfFull(); try diagnoses.flushIfFull()
            try procedures.flushIfFull(); try prescriptions.flushIfFull()
            if index + 1 < config.patients { try SyntheticTally.progress(progress, done: index + 1, total: config.patients) }
        }
        try patients.finish(); try admissions.finish(); try diagnoses.finish()
        try procedures.finish(); try prescriptions.finish()
        summary.bytes += patients.bytesWritten + admissions.bytesWritten + diagnoses.bytesWritten
            + procedures.bytesWritten + prescriptions.bytesWritten
        try SyntheticTally.progress(progress, done: config.patients, total: config.patients)
        tally.finish(catalog: catalog, into: &summary)

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
