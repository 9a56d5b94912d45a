expectInvalidFields(['limit']);
