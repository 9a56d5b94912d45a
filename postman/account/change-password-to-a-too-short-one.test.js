expectInvalidFields(['new_password']);
