expectInvalidFields(['status']);
