;; Tags for Go. See python.scm for the capture conventions.

(function_declaration
  name: (identifier) @name.definition.function) @definition.function

(method_declaration
  name: (field_identifier) @name.definition.method) @definition.method

(type_spec
  name: (type_identifier) @name.definition.struct
  type: (struct_type)) @definition.struct

(type_spec
  name: (type_identifier) @name.definition.interface
  type: (interface_type)) @definition.interface

(type_spec
  name: (type_identifier) @name.definition.type) @definition.type

(type_alias
  name: (type_identifier) @name.definition.type) @definition.type

(source_file
  (const_declaration
    (const_spec name: (identifier) @name.definition.constant) @definition.constant))

(source_file
  (var_declaration
    (var_spec name: (identifier) @name.definition.variable) @definition.variable))

(import_spec path: (_) @import)

;; References: every identifier-like leaf (the ranker decides what matters).

(identifier) @name.reference
(type_identifier) @name.reference
(field_identifier) @name.reference
(package_identifier) @name.reference

;; Lines an outline keeps verbatim.

(package_clause) @keep.package
(import_declaration) @keep.import
; Members of long structs and interfaces (short ones are shown whole).
(field_declaration_list (field_declaration) @keep.field)
(interface_type [(method_elem) (type_elem)] @keep.field)
