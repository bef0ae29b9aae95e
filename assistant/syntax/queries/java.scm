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

;; ==== references ====

(identifier) @name.reference
(type_identifier) @name.reference

;; ==== outline ====

(package_declaration) @keep.import
(import_declaration) @keep.import
(class_body (field_declaration) @keep.field)
(interface_body (constant_declaration) @keep.field)
(enum_body (enum_constant) @keep.field)
