expectInvalidFields(['is_active']);
