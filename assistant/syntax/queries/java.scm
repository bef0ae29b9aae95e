;; Tags for Java. See python.scm for the capture conventions.

(class_declaration
  name: (identifier) @name.definition.class) @definition.class

(record_declaration
  name: (identifier) @name.definition.class) @definition.class

(interface_declaration
  name: (identifier) @name.definition.interface) @definition.interface

(annotation_type_declaration
  name: (identifier) @name.definition.interface) @definition.interface

(enum_declaration
  name: (identifier) @name.definition.enum) @definition.enum

(method_declaration
  name: (identifier) @name.definition.method) @definition.method

(constructor_declaration
  name: (identifier) @name.definition.method) @definition.method

(compact_constructor_declaration
  name: (identifier) @name.definition.method) @definition.method

(import_declaration) @import

;; References: every identifier-like leaf (the ranker decides what matters).

(identifier) @name.reference
(type_identifier) @name.reference

;; Lines an outline keeps verbatim.

(package_declaration) @keep.package
(import_declaration) @keep.import
(class_body (field_declaration) @keep.field)
(interface_body (constant_declaration) @keep.field)
(enum_body (enum_constant) @keep.field)
